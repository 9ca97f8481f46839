// The README as the extension's page in VS Code shows it. The .vsix carries none of the repository's
// files (runbooks/, bench/, .ci/, tests), and the project has no public repository URL that vsce could
// rewrite relative links against, so a link to a repository path would lead nowhere on that page: each
// becomes its text (the path, in code), and a note says where such paths are. Links to the web and to
// headings of the README stay. The README in the repository keeps its links for readers there.

/** A link whose target is a path in the repository: not http(s), not mailto, not an anchor. */
const REPOSITORY_LINK = /(?<!!)\[([^\]\n]+)\]\((?![a-z][a-z0-9+.-]*:|#)[^)\s]+\)/gi;

const NOTE =
  '> Paths such as `runbooks/demo.backfill` below are files of the Backfill Runbooks source repository; ' +
  'the installed extension does not include them.';

/** `markdown` with repository-relative links replaced by their text, and the note after the title. */
export function extensionReadme(markdown) {
  let replaced = 0;
  const unlinked = markdown.replace(REPOSITORY_LINK, (_link, text) => {
    replaced += 1;
    return text;
  });
  if (replaced === 0) return unlinked;
  return unlinked.replace(/^(# .*\n)/, `$1\n${NOTE}\n`);
}
