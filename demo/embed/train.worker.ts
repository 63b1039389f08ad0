// The embedding example's Worker (?worker=1): serves the same recipe the page runs on its own thread.
import { serveTraining } from 'kindling/worker';
import { irisRecipe } from './recipe';

serveTraining(irisRecipe);
