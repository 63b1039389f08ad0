// The demo's training Worker (worker mode): serves the same recipe the page runs on its own thread.
import { serveTraining } from 'kindling/worker';
import { digitsRecipe } from './recipe';

serveTraining(digitsRecipe);
