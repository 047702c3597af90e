package fusionstoreexporter

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the configuration of the fusionstore exporter.
type Config struct {
	// Extension is the component ID of the fusionstore extension whose
	// database the exports are written into.
	Extension component.ID `mapstructure:"extension"`

	// QueueConfig is the standard exporterhelper sending queue, one per
	// signal; set its storage to a storage extension to survive restarts,
	// and its batch to give each append more rows.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// RetryConfig is the standard exporterhelper retry of failed appends.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the exporter's own keys; the queue and retry
// configurations validate themselves.
func (cfg *Config) Validate() error {
	if cfg.Extension.Type().String() == "" {
		return errors.New("'extension' must name a fusionstore extension, e.g. 'fusionstore'")
	}
	return nil
}
