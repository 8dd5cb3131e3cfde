package cli

import (
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		flag    string
		env     map[string]string
		want    shard
		wantErr string
	}{
		{flag: "", want: shard{}},
		{flag: "0/4", want: shard{0, 4}},
		{flag: "3/4", want: shard{3, 4}},
		{flag: "4/4", wantErr: "K must be a number from 0 to 3"},
		{flag: "-1/4", wantErr: "K must be a number from 0 to 3"},
		{flag: "1", wantErr: "use K/N"},
		{flag: "1/0", wantErr: "use K/N"},
		{flag: "auto/3", env: map[string]string{"JOB_COMPLETION_INDEX": "2"}, want: shard{2, 3}},
		{flag: "auto/3", env: map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, want: shard{1, 3}},
		{flag: "auto/3", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "AWS_BATCH_JOB_ARRAY_INDEX": "2"}, want: shard{0, 3}},
		{flag: "auto/3", wantErr: "neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) is set"},
		{flag: "auto/3", env: map[string]string{"JOB_COMPLETION_INDEX": "3"}, wantErr: `JOB_COMPLETION_INDEX="3" is not a shard index from 0 to 2`},
	}
	for _, tt := range tests {
		env = tt.env
		got, err := parseShard(tt.flag, getenv)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q %v: err %v, want %q", tt.flag, tt.env, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("%q %v: %v, %v; want %v", tt.flag, tt.env, got, err, tt.want)
		}
	}
}

func TestShard_OwnsEveryLineOnce(t *testing.T) {
	const n = 4
	for line := 1; line <= 100; line++ {
		owners := 0
		for k := range n {
			if (shard{k, n}).owns(line) {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("line %d owned by %d shards", line, owners)
		}
	}
	if got := (shard{2, 4}).expand("s3://b/run/part-{shard}.jsonl"); got != "s3://b/run/part-2.jsonl" {
		t.Errorf("expand = %q", got)
	}
}
