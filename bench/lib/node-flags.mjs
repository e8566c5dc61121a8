// Node flags every provlab process in the bench runs with: the ones `npm start`,
// the `provlab` bin (its #! line) and the Docker image use, so the bench
// measures provlab as it is run. See README, "Runtime: one core".
export const PROVLAB_NODE_FLAGS = ['--single-threaded-gc'];
