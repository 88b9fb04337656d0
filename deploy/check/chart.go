package check

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// Lint runs `helm lint --strict` on the chart in dir with the given values over its own: a warning
// fails as an error does. It returns one line per finding.
func Lint(dir string, values map[string]any) []string {
	l := action.NewLint()
	l.Strict = true
	l.Namespace = "open3ds"
	res := l.Run([]string{dir}, values)
	// Strict lint fails on every message from a warning up, each with its severity and file; Errors
	// repeats those and adds any failure to lint at all, such as a chart that does not load.
	var out []string
	seen := map[string]bool{}
	for _, m := range res.Messages {
		if m.Severity >= support.WarningSev {
			out = append(out, "helm lint: "+m.Error())
			seen[m.Err.Error()] = true
		}
	}
	for _, err := range res.Errors {
		if !seen[err.Error()] {
			out = append(out, "helm lint: "+err.Error())
		}
	}
	return out
}

// Release is a chart rendered as Helm would install it: the hooks apart from the other objects, each
// decoded into its Kubernetes type, and the values the templates saw.
type Release struct {
	Values      map[string]any
	Hooks       []Hook
	Deployments []*appsv1.Deployment
	Services    []*corev1.Service
	ConfigMaps  []*corev1.ConfigMap
	PDBs        []*policyv1.PodDisruptionBudget
}

// Hook is one hook object: the events it runs on and, for a Job, the Job.
type Hook struct {
	Name   string
	Kind   string
	Events []release.HookEvent
	Job    *batchv1.Job
}

// Render renders the chart in dir for an install named name in namespace ns, with values over the
// chart's own. Templates run in strict mode (a missing value is an error), and every object must
// decode into its Kubernetes type with no field that type lacks.
func Render(dir, name, ns string, values map[string]any) (*Release, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	vals, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: name, Namespace: ns, IsInstall: true, Revision: 1}, common.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	// Only what Helm would send to the cluster: not the helpers, not NOTES.txt.
	for path := range files {
		if strings.HasSuffix(path, "NOTES.txt") {
			delete(files, path)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	r := &Release{}
	if v, ok := vals["Values"].(common.Values); ok {
		r.Values = v
	} else if v, ok := vals["Values"].(map[string]any); ok {
		r.Values = v
	}
	var errs []error
	for _, m := range manifests {
		if err := r.add(m.Name, m.Content); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range hooks {
		hk := Hook{Name: h.Name, Kind: h.Kind, Events: h.Events}
		switch h.Kind {
		case "Job":
			hk.Job = &batchv1.Job{}
			if err := decodeStrict(h.Path, h.Manifest, "batch/v1", hk.Job); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("%s: a hook of kind %s, which the checks do not know", h.Path, h.Kind))
		}
		r.Hooks = append(r.Hooks, hk)
	}
	return r, errors.Join(errs...)
}

// add decodes one manifest into its type. A kind the checks do not know is an error, so that nothing
// the chart renders goes unchecked.
func (r *Release) add(path, content string) error {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal([]byte(content), &head); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch head.Kind {
	case "Deployment":
		d := &appsv1.Deployment{}
		r.Deployments = append(r.Deployments, d)
		return decodeStrict(path, content, "apps/v1", d)
	case "Service":
		s := &corev1.Service{}
		r.Services = append(r.Services, s)
		return decodeStrict(path, content, "v1", s)
	case "ConfigMap":
		c := &corev1.ConfigMap{}
		r.ConfigMaps = append(r.ConfigMaps, c)
		return decodeStrict(path, content, "v1", c)
	case "PodDisruptionBudget":
		p := &policyv1.PodDisruptionBudget{}
		r.PDBs = append(r.PDBs, p)
		return decodeStrict(path, content, "policy/v1", p)
	}
	return fmt.Errorf("%s: an object of kind %q, which the checks do not know", path, head.Kind)
}

// decodeStrict decodes one object, refusing fields its type does not have and keys given twice, and
// checks its apiVersion, which the Go type alone does not fix.
func decodeStrict(path, content, apiVersion string, into any) error {
	if err := yaml.UnmarshalStrict([]byte(content), into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	_ = yaml.Unmarshal([]byte(content), &head)
	if head.APIVersion != apiVersion {
		return fmt.Errorf("%s: %s has apiVersion %q, want %q", path, head.Kind, head.APIVersion, apiVersion)
	}
	return nil
}

// sortedKeys is the keys of m in order, so that problems come out the same on every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
