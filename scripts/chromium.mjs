// Debian's Chromium (apt-get install chromium), launched the way every kindling browser job launches it:
// headless-safe flags for a machine without network access, and WebGPU enabled (SwiftShader where there is no GPU).
// Playwright's own browser download is never used.
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];
