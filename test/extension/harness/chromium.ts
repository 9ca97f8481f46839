// Launches Debian's Chromium through playwright-core. `npx playwright install` would download a
// browser, which these machines cannot, so the executable is whatever `chromium` is on the PATH.
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    // The harness owns cleanup on signals: it stops the browser and code-server together.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'chromium is not on the PATH; run scripts/install-code-server.sh (apt-get install chromium)',
    );
  }
}
