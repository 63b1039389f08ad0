// The Worker of e2e/pages/headline.ts: serves the same recipe the page runs on its own thread.
import { serveTraining } from 'kindling/worker';
import { headlineRecipe } from './headline-recipe';

serveTraining(headlineRecipe);
