package store_test

import (
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/lambdafan/lambdafan/internal/store"
)

func mustParse(t testing.TB, s string) store.Location {
	t.Helper()
	loc, err := store.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// writeObject creates loc with data and closes it.
func writeObject(t testing.TB, st store.Store, loc store.Location, data []byte) {
	t.Helper()
	obj, err := st.Create(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
}

// readObject opens loc and reads it whole.
func readObject(t testing.TB, st store.Store, loc store.Location) []byte {
	t.Helper()
	r, err := st.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// randomBytes returns n bytes that do not compress, the same for a seed.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

// liveHeap returns the bytes of live heap objects, after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

const mib = 1 << 20
