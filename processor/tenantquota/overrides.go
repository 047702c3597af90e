package tenantquota

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// overrideLayer says where an override came from. Higher layers win.
type overrideLayer int

const (
	layerConfig overrideLayer = iota // the collector configuration's "tenants"
	layerFile                        // overrides_file
	layerAPI                         // the admin API
	numLayers
)

func (l overrideLayer) String() string {
	switch l {
	case layerConfig:
		return "config"
	case layerFile:
		return "file"
	default:
		return "api"
	}
}

// overrideStore holds the override layers and resolves a tenant's limits.
// It is safe for concurrent use.
type overrideStore struct {
	defaults LimitsConfig

	mu     sync.RWMutex
	layers [numLayers]map[string]TenantOverrides
}

func newOverrideStore(cfg *Config) *overrideStore {
	s := &overrideStore{defaults: cfg.Defaults}
	for l := range s.layers {
		s.layers[l] = map[string]TenantOverrides{}
	}
	maps.Copy(s.layers[layerConfig], cfg.Tenants)
	return s
}

// limits resolves a tenant's limits: defaults, then each layer in order.
func (s *overrideStore) limits(tenantID string) LimitsConfig {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.defaults
	l.EnvSamplingRates = maps.Clone(s.defaults.EnvSamplingRates)
	for _, layer := range s.layers {
		if o, ok := layer[tenantID]; ok {
			o.applyTo(&l)
		}
	}
	return l
}

// layer returns a copy of one tenant's override in one layer.
func (s *overrideStore) layer(l overrideLayer, tenantID string) (TenantOverrides, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.layers[l][tenantID]
	return o, ok
}

// tenantIDs lists every tenant named in any layer.
func (s *overrideStore) tenantIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	seen := map[string]bool{}
	for _, layer := range s.layers {
		for id := range layer {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// replaceFile swaps the whole file layer and returns the tenants whose
// override changed (added, removed or edited).
func (s *overrideStore) replaceFile(tenants map[string]TenantOverrides) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.layers[layerFile]
	s.layers[layerFile] = tenants
	var changed []string
	for id := range old {
		if _, ok := tenants[id]; !ok {
			changed = append(changed, id)
		}
	}
	for id := range tenants {
		changed = append(changed, id)
	}
	return changed
}

// updateAPI edits one tenant's API override in place.
func (s *overrideStore) updateAPI(tenantID string, edit func(*TenantOverrides)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.layers[layerAPI][tenantID]
	o.EnvSamplingRates = maps.Clone(o.EnvSamplingRates)
	edit(&o)
	s.layers[layerAPI][tenantID] = o
}

// deleteAPI removes a tenant's API override; it reports whether there was one.
func (s *overrideStore) deleteAPI(tenantID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.layers[layerAPI][tenantID]
	delete(s.layers[layerAPI], tenantID)
	return ok
}

// applyTo replaces the sections o sets.
func (o TenantOverrides) applyTo(l *LimitsConfig) {
	if o.Traces != nil {
		l.Traces = *o.Traces
	}
	if o.Logs != nil {
		l.Logs = *o.Logs
	}
	if o.Metrics != nil {
		l.Metrics = *o.Metrics
	}
	if o.SamplingRate != nil {
		l.SamplingRate = *o.SamplingRate
	}
	if len(o.EnvSamplingRates) > 0 && l.EnvSamplingRates == nil {
		l.EnvSamplingRates = map[string]float64{}
	}
	maps.Copy(l.EnvSamplingRates, o.EnvSamplingRates)
	if o.Retention != nil {
		l.Retention = *o.Retention
	}
}

// overridesFile is the layout of overrides_file.
type overridesFile struct {
	// Tenants are the overrides, by tenant id.
	Tenants map[string]TenantOverrides `mapstructure:"tenants"`
}

// decodeOverrides decodes generic data (from YAML or JSON) with the same
// rules as the collector configuration: snake_case keys, duration strings,
// unknown keys refused.
func decodeOverrides(raw map[string]any, into any) error {
	if err := checkWholeBursts(raw, ""); err != nil {
		return err
	}
	return confmap.NewFromStringMap(raw).Unmarshal(into)
}

// checkWholeBursts refuses a fractional burst, which decoding would
// silently truncate.
func checkWholeBursts(raw map[string]any, prefix string) error {
	var errs error
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		switch v := raw[key].(type) {
		case map[string]any:
			errs = errors.Join(errs, checkWholeBursts(v, prefix+key+"::"))
		case float64:
			if strings.HasSuffix(key, "_burst") && v != math.Trunc(v) {
				errs = errors.Join(errs, fmt.Errorf("'%s%s' must be a whole number, got %v", prefix, key, v))
			}
		}
	}
	return errs
}

// parseOverridesFile decodes and validates the content of overrides_file.
func parseOverridesFile(content []byte) (map[string]TenantOverrides, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(content, &raw); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var f overridesFile
	if err := decodeOverrides(raw, &f); err != nil {
		return nil, err
	}
	var errs error
	for _, id := range slices.Sorted(maps.Keys(f.Tenants)) {
		if id == "" {
			errs = errors.Join(errs, errors.New("'tenants' has an empty tenant id"))
		}
		errs = errors.Join(errs, f.Tenants[id].validate("tenants::"+id+"::"))
	}
	if errs != nil {
		return nil, errs
	}
	if f.Tenants == nil {
		f.Tenants = map[string]TenantOverrides{}
	}
	return f.Tenants, nil
}

// fileWatcher notices when the content of a file changes. It reads through
// symlinks, so a Kubernetes ConfigMap update (an atomic swap of the
// "..data" symlink) is seen like an edit in place. Not safe for concurrent use.
type fileWatcher struct {
	path string
	last []byte
	read bool
}

// changed returns the content when it differs from the last call's.
func (w *fileWatcher) changed() ([]byte, bool, error) {
	content, err := os.ReadFile(w.path)
	if err != nil {
		return nil, false, err
	}
	if w.read && bytes.Equal(content, w.last) {
		return nil, false, nil
	}
	w.last, w.read = content, true
	return content, true, nil
}
