// Package group builds query groups (clusters) for the sample-sample loss and
// for the clustering baseline.
//
// The paper's grouping is t-SNE of the training features to 5 dimensions
// followed by k-means (Groups). TSNE picks its algorithm by the number of
// rows N (TSNEConfig.Method overrides):
//
//   - N <= ExactTSNEMaxRows (5000, the released training set): exact t-SNE,
//     all-pairs O(N^2) repulsion; its output is bit-identical to what this
//     package always produced, so the paper's tables do not move.
//   - N > ExactTSNEMaxRows (RouterBench's ~30000 training queries):
//     Barnes-Hut t-SNE (van der Maaten 2014) over a kd-tree, O(N log N) per
//     iteration, with the same PCA, the same kNN affinities (found by a
//     blocked, vectorised exact search) and the same optimiser settings.
//
// Both are deterministic: the same input and seed give the same bits,
// whatever GOMAXPROCS.
package group
