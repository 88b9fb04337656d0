package check

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	release "helm.sh/helm/v4/pkg/release/v1"
)

// roleValues names each role's section of values.yaml.
var roleValues = map[string]string{"ds": "ds", "acs": "acs", "3dss": "threeDSServer"}

// CrossCheck follows the references between the rendered objects that a reviewer would follow by
// hand, and returns one line per broken one. vars is what each command of the binary reads.
func CrossCheck(r *Release, vars Variables) []string {
	c := &crossCheck{r: r, vars: vars, secrets: declaredSecrets(r.Values)}
	for _, cm := range r.ConfigMaps {
		c.configMaps = append(c.configMaps, cm.Name)
	}
	for _, d := range r.Deployments {
		c.deployment(d)
	}
	for _, s := range r.Services {
		c.service(s)
	}
	c.pdbs()
	c.migration()
	return c.problems
}

type crossCheck struct {
	r          *Release
	vars       Variables
	secrets    map[string]bool // "secret/key" of every Secret key the values name
	configMaps []string
	problems   []string
}

func (c *crossCheck) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// declaredSecrets walks the values for Secret references, {secret: NAME, key: KEY} and its kin, and
// returns every NAME/KEY they declare. A Secret key used anywhere else was chosen by a template, out of
// the operator's sight.
func declaredSecrets(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["secret"].(string); ok && name != "" {
				for _, field := range []string{"key", "certKey", "keyKey"} {
					if k, ok := v[field].(string); ok && k != "" {
						out[name+"/"+k] = true
					}
				}
				if ps, ok := v["prefixes"].([]any); ok {
					for _, p := range ps {
						out[fmt.Sprintf("%s/%v.crt", name, p)] = true
						out[fmt.Sprintf("%s/%v.key", name, p)] = true
					}
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

func (c *crossCheck) secretRef(where, name, key string) {
	if !c.secrets[name+"/"+key] {
		c.add("%s: Secret %s key %s is not declared in the values", where, name, key)
	}
}

// deployment checks one role: its size, its pod's security, probes, ports, variables and secrets.
func (c *crossCheck) deployment(d *appsv1.Deployment) {
	where := "Deployment " + d.Name
	pod := d.Spec.Template
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		c.add("%s: fewer than 2 replicas", where)
	}
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
		c.add("%s: no selector", where)
	} else if !selects(d.Spec.Selector.MatchLabels, pod.Labels) {
		c.add("%s: its selector %v does not select its own pods %v", where, d.Spec.Selector.MatchLabels, pod.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		c.add("%s: %d containers, want the role's one", where, len(pod.Spec.Containers))
		return
	}
	ctr := pod.Spec.Containers[0]
	if len(ctr.Args) != 2 || ctr.Args[0] != "serve" || roleValues[ctr.Args[1]] == "" {
		c.add("%s: runs %q, not serve ds|acs|3dss", where, ctr.Args)
		return
	}
	role := ctr.Args[1]
	if pod.Labels["app.kubernetes.io/component"] != role {
		c.add("%s: runs serve %s but its pods are labelled component %q", where, role, pod.Labels["app.kubernetes.io/component"])
	}
	c.security(where, pod.Spec, ctr)
	c.resources(where, ctr)
	c.grace(where, role, pod.Spec)
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	c.probes(where, ctr, ports)
	if pod.Annotations["prometheus.io/scrape"] == "true" {
		if pod.Annotations["prometheus.io/port"] != strconv.Itoa(int(ports["admin"])) || pod.Annotations["prometheus.io/path"] != "/metrics" {
			c.add("%s: the scrape annotations name port %s path %s, not the admin port %d and /metrics", where,
				pod.Annotations["prometheus.io/port"], pod.Annotations["prometheus.io/path"], ports["admin"])
		}
	}
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		if tsc.LabelSelector == nil || !selects(tsc.LabelSelector.MatchLabels, pod.Labels) {
			c.add("%s: a topology spread constraint does not select the role's pods", where)
		}
	}
	files := c.mountedFiles(where, pod.Spec, ctr)
	env := c.environment(where, "serve "+role, ctr)
	c.listeners(where, role, env, ports)
	for _, name := range sortedKeys(env) {
		val := env[name]
		for _, item := range strings.Split(val, ",") {
			if strings.HasPrefix(item, "/etc/open3ds/") && !files[item] && !(files[item+".crt"] && files[item+".key"]) {
				c.add("%s: %s names %s, which no volume mounts", where, name, item)
			}
		}
	}
	if env["OPEN3DS_"+strings.ToUpper(role)+"_MIGRATE"] == "true" {
		c.add("%s: the role migrates the schema itself; the migration Job does that", where)
	}
}

func selects(selector, labelSet map[string]string) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(labels.Set(labelSet))
}

// security checks that the role runs as no one in particular, on a read-only root, without privileges.
func (c *crossCheck) security(where string, spec corev1.PodSpec, ctr corev1.Container) {
	psc, sc := spec.SecurityContext, ctr.SecurityContext
	nonRoot := (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) || (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot)
	if !nonRoot {
		c.add("%s: runAsNonRoot is not set", where)
	}
	if (psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0) || (sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0) {
		c.add("%s: runs as user 0", where)
	}
	switch {
	case sc == nil:
		c.add("%s: the container has no securityContext", where)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		c.add("%s: the root file system is writable", where)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		c.add("%s: privilege escalation is allowed", where)
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
		c.add("%s: capabilities are not all dropped", where)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		c.add("%s: mounts a service account token the role never uses", where)
	}
}

func (c *crossCheck) resources(where string, ctr corev1.Container) {
	r := ctr.Resources
	if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
		c.add("%s: the container lacks a CPU or memory request or a memory limit", where)
	}
}

// grace checks that Kubernetes waits out the role's drain delay and shutdown grace before it kills.
func (c *crossCheck) grace(where, role string, spec corev1.PodSpec) {
	v, _ := c.r.Values[roleValues[role]].(map[string]any)
	need := number(v["drainDelaySeconds"]) + number(v["shutdownGraceSeconds"])
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds <= need {
		c.add("%s: terminationGracePeriodSeconds is not longer than the drain delay and shutdown grace (%ds)", where, need)
	}
}

func number(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

// probes checks that liveness and readiness ask the admin listener's /livez and /readyz by a port name
// the container declares.
func (c *crossCheck) probes(where string, ctr corev1.Container, ports map[string]int32) {
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"liveness", ctr.LivenessProbe, "/livez"}, {"readiness", ctr.ReadinessProbe, "/readyz"}, {"startup", ctr.StartupProbe, "/livez"}} {
		if p.probe == nil {
			if p.kind != "startup" {
				c.add("%s: no %s probe", where, p.kind)
			}
			continue
		}
		g := p.probe.HTTPGet
		if g == nil {
			c.add("%s: the %s probe is not an HTTP GET", where, p.kind)
			continue
		}
		if g.Path != p.path {
			c.add("%s: the %s probe asks %s, want %s", where, p.kind, g.Path, p.path)
		}
		if g.Port.StrVal == "" {
			c.add("%s: the %s probe names port %s by number, not by the container's port name", where, p.kind, g.Port.String())
		} else if _, ok := ports[g.Port.StrVal]; !ok {
			c.add("%s: the %s probe's port %q is not a named container port", where, p.kind, g.Port.StrVal)
		} else if g.Port.StrVal != "admin" {
			c.add("%s: the %s probe asks port %q, not the admin listener", where, p.kind, g.Port.StrVal)
		}
	}
}

// mountedFiles returns the path of every Secret key the container mounts as a file, checking that
// each is declared in the values.
func (c *crossCheck) mountedFiles(where string, spec corev1.PodSpec, ctr corev1.Container) map[string]bool {
	files := map[string]bool{}
	for _, vol := range spec.Volumes {
		mount := ""
		for _, m := range ctr.VolumeMounts {
			if m.Name == vol.Name {
				mount = m.MountPath
			}
		}
		var sources []*corev1.SecretProjection
		if vol.Projected != nil {
			for _, s := range vol.Projected.Sources {
				if s.ConfigMap != nil || s.DownwardAPI != nil || s.ServiceAccountToken != nil {
					c.add("%s: volume %s projects something other than Secrets", where, vol.Name)
				}
				if s.Secret != nil {
					sources = append(sources, s.Secret)
				}
			}
		}
		if vol.Secret != nil {
			sources = append(sources, &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: vol.Secret.SecretName}, Items: vol.Secret.Items})
		}
		for _, s := range sources {
			if len(s.Items) == 0 {
				c.add("%s: volume %s mounts all of Secret %s, not the keys the values name", where, vol.Name, s.Name)
			}
			for _, it := range s.Items {
				c.secretRef(where, s.Name, it.Key)
				if mount != "" {
					files[path.Join(mount, it.Path)] = true
				}
			}
		}
		if len(sources) > 0 && mount == "" {
			c.add("%s: volume %s is not mounted", where, vol.Name)
		}
	}
	return files
}

// environment collects the variables the container gets, from its ConfigMaps and its own env, and
// checks each against what command reads; a secret may come only from a Secret.
func (c *crossCheck) environment(where, command string, ctr corev1.Container) map[string]string {
	env := map[string]string{}
	for _, from := range ctr.EnvFrom {
		if from.SecretRef != nil {
			c.add("%s: takes every key of Secret %s as a variable", where, from.SecretRef.Name)
		}
		if from.ConfigMapRef == nil {
			continue
		}
		cm := c.configMap(from.ConfigMapRef.Name)
		if cm == nil {
			c.add("%s: ConfigMap %s is not one the chart makes", where, from.ConfigMapRef.Name)
			continue
		}
		for _, k := range sortedKeys(cm.Data) {
			env[from.Prefix+k] = cm.Data[k]
			if c.vars.Secret(command, from.Prefix+k) {
				c.add("%s: the secret %s is a plain value in ConfigMap %s", where, from.Prefix+k, cm.Name)
			}
		}
	}
	for _, e := range ctr.Env {
		env[e.Name] = e.Value
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			c.secretRef(where, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if cm := c.configMap(ref.Name); cm == nil || cm.Data[ref.Key] == "" {
				c.add("%s: %s comes from ConfigMap %s key %s, which the chart does not make", where, e.Name, ref.Name, ref.Key)
			}
		case c.vars.Secret(command, e.Name):
			c.add("%s: the secret %s is set as a plain value", where, e.Name)
		}
	}
	for _, name := range sortedKeys(env) {
		if !c.vars.Reads(command, name) {
			c.add("%s: sets %s, which `open3ds %s` does not read", where, name, command)
		}
	}
	return env
}

func (c *crossCheck) configMap(name string) *corev1.ConfigMap {
	for _, cm := range c.r.ConfigMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

// listeners checks that each container port is one the role listens on, and the other way round.
func (c *crossCheck) listeners(where, role string, env map[string]string, ports map[string]int32) {
	listening := map[int32]string{}
	for _, name := range sortedKeys(env) {
		if !strings.HasSuffix(name, "_LISTEN") {
			continue
		}
		_, port, err := net.SplitHostPort(env[name])
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil {
			c.add("%s: %s=%q is not host:port", where, name, env[name])
			continue
		}
		listening[int32(n)] = name
	}
	for _, name := range sortedKeys(ports) {
		if listening[ports[name]] == "" {
			c.add("%s: container port %s (%d) is not one the role listens on", where, name, ports[name])
		}
	}
	for port, name := range listening {
		found := false
		for _, p := range ports {
			found = found || p == port
		}
		if !found {
			c.add("%s: %s listens on %d, which is no container port", where, name, port)
		}
	}
	if env["OPEN3DS_"+strings.ToUpper(role)+"_ADMIN_LISTEN"] == "" {
		c.add("%s: the admin listener's address is not set (its default is loopback, out of the probes' reach)", where)
	}
}

// service checks that a Service selects the pods of exactly one role, on a port they declare.
func (c *crossCheck) service(s *corev1.Service) {
	where := "Service " + s.Name
	var matched []*appsv1.Deployment
	for _, d := range c.r.Deployments {
		if selects(s.Spec.Selector, d.Spec.Template.Labels) {
			matched = append(matched, d)
		}
	}
	if len(matched) != 1 {
		c.add("%s: its selector %v selects the pods of %d Deployments, want 1", where, s.Spec.Selector, len(matched))
		return
	}
	names := map[string]bool{}
	for _, ctr := range matched[0].Spec.Template.Spec.Containers {
		for _, p := range ctr.Ports {
			names[p.Name] = true
		}
	}
	for _, p := range s.Spec.Ports {
		if p.TargetPort.StrVal == "" || !names[p.TargetPort.StrVal] {
			c.add("%s: port %s targets %s, not a named port of Deployment %s", where, p.Name, p.TargetPort.String(), matched[0].Name)
		}
	}
}

// pdbs checks that every role has a PodDisruptionBudget selecting its pods, one that lets a node drain
// one instance at a time and never all of them.
func (c *crossCheck) pdbs() {
	for _, d := range c.r.Deployments {
		var found bool
		for _, p := range c.r.PDBs {
			if p.Spec.Selector == nil || !selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				continue
			}
			found = true
			replicas := int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			switch {
			case p.Spec.MaxUnavailable != nil:
				if n := p.Spec.MaxUnavailable.IntValue(); p.Spec.MaxUnavailable.StrVal != "" || n < 1 || int32(n) >= replicas {
					c.add("PodDisruptionBudget %s: maxUnavailable %s must be a count from 1 to fewer than the %d replicas", p.Name, p.Spec.MaxUnavailable.String(), replicas)
				}
			case p.Spec.MinAvailable != nil:
				if n := p.Spec.MinAvailable.IntValue(); p.Spec.MinAvailable.StrVal != "" || n < 1 || int32(n) >= replicas {
					c.add("PodDisruptionBudget %s: minAvailable %s must be a count from 1 to fewer than the %d replicas", p.Name, p.Spec.MinAvailable.String(), replicas)
				}
			default:
				c.add("PodDisruptionBudget %s: neither maxUnavailable nor minAvailable", p.Name)
			}
		}
		if !found {
			c.add("Deployment %s: no PodDisruptionBudget selects its pods", d.Name)
		}
	}
	for _, p := range c.r.PDBs {
		n := 0
		for _, d := range c.r.Deployments {
			if p.Spec.Selector != nil && selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				n++
			}
		}
		if n != 1 {
			c.add("PodDisruptionBudget %s: selects the pods of %d Deployments, want 1", p.Name, n)
		}
	}
}

// migration checks that a Job runs `open3ds migrate` as a hook before every install and upgrade, so
// that no role starts on a schema older than its own, and that it needs nothing the release makes.
func (c *crossCheck) migration() {
	var found bool
	for _, h := range c.r.Hooks {
		if h.Job == nil {
			continue
		}
		where := "Job " + h.Job.Name
		ctrs := h.Job.Spec.Template.Spec.Containers
		if len(ctrs) != 1 || len(ctrs[0].Args) != 1 || ctrs[0].Args[0] != "migrate" {
			continue
		}
		found = true
		if !hasEvent(h.Events, release.HookPreInstall) || !hasEvent(h.Events, release.HookPreUpgrade) {
			c.add("%s: runs on %v, not before the roles on both install and upgrade (pre-install, pre-upgrade)", where, h.Events)
		}
		c.security(where, h.Job.Spec.Template.Spec, ctrs[0])
		c.resources(where, ctrs[0])
		// The hook runs before the release's own objects exist: a ConfigMap of the chart is not there yet.
		for _, from := range ctrs[0].EnvFrom {
			if from.ConfigMapRef != nil && c.configMap(from.ConfigMapRef.Name) != nil {
				c.add("%s: reads ConfigMap %s, which does not exist yet when the hook runs", where, from.ConfigMapRef.Name)
			}
		}
		c.environment(where, "migrate", ctrs[0])
	}
	if !found {
		c.add("no hook Job runs `open3ds migrate`")
	}
	for _, d := range c.r.Deployments {
		if _, ok := d.Annotations["helm.sh/hook"]; ok {
			c.add("Deployment %s: is a hook, so Helm would not order it after the migration", d.Name)
		}
	}
}

func hasEvent(events []release.HookEvent, want release.HookEvent) bool {
	for _, e := range events {
		if e == want {
			return true
		}
	}
	return false
}
