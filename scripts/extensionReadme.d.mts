export declare function extensionReadme(markdown: string): string;
