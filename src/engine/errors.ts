/** Thrown inside the loop to stop the run; never escapes `run()`. */
export class TerminateSignal extends Error {
  constructor() {
    super('Engine: the run was terminated.');
    this.name = 'TerminateSignal';
  }
}

/** Thrown inside the loop to end the current epoch; never escapes `run()`. */
export class TerminateEpochSignal extends Error {
  constructor() {
    super('Engine: the epoch was terminated.');
    this.name = 'TerminateEpochSignal';
  }
}
