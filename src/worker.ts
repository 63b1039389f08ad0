// `kindling/worker`: run a trainer in a dedicated module Worker (serveTraining there, trainInWorker on the page) or on
// the page's thread (trainHere), with one handle for both.
export * from './worker/index';
