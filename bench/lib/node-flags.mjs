// Node flags every provlab process in the bench runs with: the ones `npm start`,
// the `provlab` bin (its #! line) and the Docker image use, so the bench
// measures provlab as it is run. See README, "Runtime: one core".
// PROVLAB_EXTRA_NODE_FLAGS (space-separated) adds flags for an experiment; never for a published run.
export const PROVLAB_NODE_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=4', ...(process.env.PROVLAB_EXTRA_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
