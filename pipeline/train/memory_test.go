package train

import (
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/data/datatest"
	"github.com/routerdc-go/routerdc/pipeline/router"
)

// TestEncoderBitsBoundedByMemory: encoder_bits=20 passed validation and
// then asked for ~21 GB of features (5000 rows x 2^20 x 4 bytes); the
// features must fit in memory, or the run stops before encoding with an
// error naming the setting.
func TestEncoderBitsBoundedByMemory(t *testing.T) {
	defer func(l int64) { featureMemoryLimit = l }(featureMemoryLimit)
	featureMemoryLimit = 16 << 30
	err := checkFeatureMemory(5000, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "setting encoder_bits=20: 5000 queries x 2^20 features x 4 bytes = 19.5 GiB") {
		t.Errorf("5000 rows at encoder_bits=20 under a 16 GiB limit: %v", err)
	}
	if err := checkFeatureMemory(5000, 1<<12); err != nil {
		t.Errorf("the default encoder_bits=12: %v", err)
	}

	// Through a training run: a limit below what 60 rows per task need.
	featureMemoryLimit = 1 << 20
	store := router.NewStore(1)
	if err := router.ApplySettings(store, []string{"router=task;samples_per_task=60;encoder_bits=12"}); err != nil {
		t.Fatal(err)
	}
	_, err = Run(datatest.RequireBuiltin(t), store, nil)
	if err == nil || !strings.Contains(err.Error(), "setting encoder_bits=12: 300 queries") {
		t.Errorf("training over the memory limit: %v", err)
	}
}
