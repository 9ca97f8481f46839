// esbuild inlines `import text from './x.css' with { type: 'text' }` as a string.
declare module '*.css' {
  const text: string;
  export default text;
}
