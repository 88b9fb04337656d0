// Package check verifies the deployment files offline, as a reviewer would by hand: the Helm chart
// under deploy/helm/open3ds (linted strictly with Helm's own library, rendered, every object decoded
// strictly into its Kubernetes type, and the references between objects followed) and the Dockerfile
// at the repository root (BuildKit's parser and lint rules, and the project's own rules).
//
// It is a module of its own so that the open3ds module does not take on Helm's and BuildKit's
// dependencies; scripts/test.sh runs its tests. The variables the chart may set come from
// variables.txt, which a test of cmd/open3ds keeps equal to what the binary reads.
package check
