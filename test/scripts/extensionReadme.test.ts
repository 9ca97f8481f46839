import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extensionReadme } from '../../scripts/extensionReadme.mjs';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

describe("the README on the extension's page (the .vsix)", () => {
  it('keeps no link to a repository path, which the .vsix does not ship, and says where such paths are', () => {
    assert.match(README, /\]\(runbooks\/demo\.backfill\)/, 'the repository README links its files');
    const page = extensionReadme(README);
    const links = [...page.matchAll(/(?<!!)\[[^\]\n]+\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(
      links.filter((target) => !/^(https?:|mailto:|#)/.test(target)),
      [],
      'only web links and anchors remain',
    );
    assert.match(page, /copies `runbooks\/demo\.backfill` into `demo-output\/`/, 'the link text stays');
    assert.match(
      page,
      /^# Backfill Runbooks\n\n> Paths such as `runbooks\/demo\.backfill` below are files of/,
    );
    assert.ok(!page.includes('../shared/'));
  });

  it('leaves web links, anchors and images alone', () => {
    const text =
      '# T\n\n[site](https://example.com) [part](#usage) ![shot](media/a.png) [file](bench/README.md)\n';
    assert.equal(
      extensionReadme(text),
      '# T\n\n> Paths such as `runbooks/demo.backfill` below are files of the Backfill Runbooks source ' +
        'repository; the installed extension does not include them.\n\n' +
        '[site](https://example.com) [part](#usage) ![shot](media/a.png) file\n',
    );
  });
});
