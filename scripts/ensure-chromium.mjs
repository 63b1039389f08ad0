// Makes sure a Chromium for Playwright is present: Debian's /usr/bin/chromium (or $CHROMIUM_PATH).
// Playwright's own browser download is never used. On a Debian machine where we are root, installs it with apt-get.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { chromiumPath as path } from './chromium.mjs';

if (existsSync(path)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  console.error(
    `kindling: no Chromium at ${path}. Install Debian's chromium (sudo apt-get install chromium) ` +
      'or point CHROMIUM_PATH at a Chromium or Chrome binary, then run the command again.',
  );
  process.exit(1);
}
console.log(
  "kindling: installing Debian's chromium (apt-get install chromium) for the browser tests and the demo runner...",
);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execSync('apt-get update -qq && apt-get install -y -qq chromium', { stdio: 'inherit', env });
if (!existsSync(path)) {
  console.error(`kindling: apt-get finished but ${path} is still missing; set CHROMIUM_PATH to your Chromium binary.`);
  process.exit(1);
}
