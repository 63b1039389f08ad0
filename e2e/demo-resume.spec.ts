import { expect, lossList, snapshot, test, waitForIteration, waitForStatus } from './demo-helpers';

// Reload mid-epoch: the page continues from the latest checkpoint, and every loss after it equals an uninterrupted
// run of the same seed in a fresh browser context (fresh IndexedDB). With checkpoints written in the background
// (`async=1`) as well: the reload may cut a save short, and the page then resumes from the one before.
for (const backend of ['cpu', 'webgpu'] as const) {
  for (const mode of ['sync', 'async'] as const) {
    test(`reload mid-epoch resumes at the checkpoint with the same losses (${backend}, ${mode} checkpoints)`, async ({
      page,
      browser,
    }) => {
      test.setTimeout(backend === 'webgpu' ? 300_000 : 120_000); // SwiftShader, three runs
      const url = `/?backend=${backend}&epochs=2&every=5&seed=7&db=e2e-resume-${backend}-${mode}&async=${mode === 'async' ? 1 : 0}`;
      // On the CPU backend the MLP trains the 33 steps left after iteration 57 in less time than a reload may take on
      // a loaded machine: the first page trains 4x slowed down, so that the reload lands mid-run.
      const cdp = backend === 'cpu' ? await page.context().newCDPSession(page) : null;
      await cdp?.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await page.goto(`${url}&autostart=1&fresh=1`);
      await waitForIteration(page, 57); // mid-epoch 2 (45 iterations per epoch)
      const before = await snapshot(page);
      expect(before.lastCheckpoint!.iteration).toBeGreaterThanOrEqual(50);

      // Reload, as a user would, but without ?autostart&fresh: the page resumes because the stored run was running.
      await page.goto(url);
      await cdp?.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await waitForStatus(page, ['completed', 'failed']);
      const resumed = await snapshot(page);
      expect(resumed.status).toBe('completed');
      const from = resumed.resumedFrom!.iteration;
      expect(from).toBeGreaterThanOrEqual(50);
      expect(from).toBeLessThan(90); // mid-epoch 2
      expect(from % 5).toBe(0);
      await expect(page.locator('#resume-note')).toContainText(`resumed from iteration ${from}`);

      const fresh = await browser.newContext();
      const other = await fresh.newPage();
      await other.goto(`${url}&autostart=1`);
      await waitForStatus(other, ['completed', 'failed']);
      const straight = await snapshot(other);
      await fresh.close();
      expect(straight.resumedFrom).toBeNull();

      const a = lossList(resumed.losses);
      const b = lossList(straight.losses);
      expect(a.map(([i]) => i)).toEqual(b.map(([i]) => i));
      expect(a.length).toBe(90);
      // Exact equality, float for float, for the iterations trained after the resume and the restored history alike.
      expect(a.filter(([i]) => i > from)).toEqual(b.filter(([i]) => i > from));
      expect(a).toEqual(b);
      expect(resumed.epochs.at(-1)!.metrics).toEqual(straight.epochs.at(-1)!.metrics);
    });
  }
}
