// Command tlogverify checks a Sunshine Ledger log with Go's golang.org/x/mod/sumdb/note
// and sumdb/tlog, reading it only through the C2SP tlog-tiles endpoints (and a tlog-proof
// file). It is the independent implementation the interop test drives: none of the
// checks below use the Python code under test.
//
//	tlogverify -url http://127.0.0.1:PORT -log-vkey VKEY -witness VKEY,... \
//	    -old-size N -old-root B64 -indexes 0,7,299 -proof FILE.tlog-proof
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// cosigVerifier verifies C2SP tlog-cosignature "cosignature/v1" lines (type 0x04),
// which sumdb/note does not know: it plugs into note.Open as a note.Verifier.
type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	signed := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t))
	signed = append(signed, msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

func newCosigVerifier(vkey string) (*cosigVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("malformed witness vkey")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return nil, errors.New("witness vkey is not type 0x04 Ed25519")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	hash := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", hash) != strings.ToLower(parts[1]) {
		return nil, errors.New("witness vkey: key ID does not match")
	}
	return &cosigVerifier{parts[0], hash, ed25519.PublicKey(raw[1:])}, nil
}

type httpTiles struct{ base string }

func (h httpTiles) Height() int { return 8 }

// C2SP tlog-tiles drops sumdb's height element: tile/8/L/N -> tile/L/N.
func c2spPath(t tlog.Tile) string { return strings.Replace(t.Path(), "tile/8/", "tile/", 1) }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := get(h.base + "/" + c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (h httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, nil
}

func parseCheckpoint(text string) (string, tlog.Tree, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		return "", tlog.Tree{}, errors.New("short checkpoint")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return "", tlog.Tree{}, err
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		return "", tlog.Tree{}, err
	}
	return lines[0], tlog.Tree{N: n, Hash: h}, nil
}

func verifiers(logVkey string, witnesses []string) (note.Verifiers, []*cosigVerifier) {
	logV, err := note.NewVerifier(logVkey)
	check(err, "log vkey")
	all := []note.Verifier{logV}
	var ws []*cosigVerifier
	for _, w := range witnesses {
		v, err := newCosigVerifier(w)
		check(err, "witness vkey")
		all = append(all, v)
		ws = append(ws, v)
	}
	return note.VerifierList(all...), ws
}

// openCosigned verifies the log signature and counts pinned witnesses that cosigned.
func openCosigned(msg []byte, vs note.Verifiers, logName string, ws []*cosigVerifier) (*note.Note, int) {
	n, err := note.Open(msg, vs)
	check(err, "note.Open")
	logSigned, cosigned := false, map[string]bool{}
	for _, s := range n.Sigs {
		if s.Name == logName {
			logSigned = true
		}
		for _, w := range ws {
			if s.Name == w.name && s.Hash == w.hash {
				cosigned[w.name] = true
			}
		}
	}
	if !logSigned {
		fail("the note is not signed by the log key")
	}
	return n, len(cosigned)
}

func entryBundle(base string, tileIndex, width int64) [][]byte {
	t := tlog.Tile{H: 8, L: 0, N: tileIndex, W: int(width)}
	path := strings.Replace(c2spPath(t), "tile/0/", "tile/entries/", 1)
	blob, err := get(base + "/" + path)
	check(err, "entry bundle")
	var entries [][]byte
	for len(blob) > 0 {
		if len(blob) < 2 {
			fail("entry bundle: truncated length")
		}
		size := int(binary.BigEndian.Uint16(blob[:2]))
		if len(blob) < 2+size {
			fail("entry bundle: truncated entry")
		}
		entries = append(entries, blob[2:2+size])
		blob = blob[2+size:]
	}
	return entries
}

func main() {
	base := flag.String("url", "", "the log's prefix URL")
	logVkey := flag.String("log-vkey", "", "the log's note verifier key")
	witnessList := flag.String("witness", "", "comma-separated witness vkeys (type 0x04)")
	quorum := flag.Int("quorum", 0, "cosignatures required")
	oldSize := flag.Int64("old-size", 0, "an earlier checkpoint's size")
	oldRoot := flag.String("old-root", "", "that checkpoint's base64 root")
	indexList := flag.String("indexes", "", "comma-separated leaf indexes to prove")
	proofFile := flag.String("proof", "", "a c2sp.org/tlog-proof@v1 file")
	flag.Parse()
	var witnesses []string
	if *witnessList != "" {
		witnesses = strings.Split(*witnessList, ",")
	}
	vs, ws := verifiers(*logVkey, witnesses)
	logName := strings.SplitN(*logVkey, "+", 2)[0]

	msg, err := get(*base + "/checkpoint")
	check(err, "checkpoint")
	n, cosigners := openCosigned(msg, vs, logName, ws)
	if cosigners < *quorum {
		fail(fmt.Sprintf("checkpoint: %d cosignatures, quorum %d", cosigners, *quorum))
	}
	origin, tree, err := parseCheckpoint(n.Text)
	check(err, "checkpoint text")
	fmt.Printf("ok checkpoint %s size %d, %d cosignatures\n", origin, tree.N, cosigners)

	hr := tlog.TileHashReader(tree, httpTiles{*base})
	if root, err := tlog.TreeHash(tree.N, hr); err != nil || root != tree.Hash {
		fail(fmt.Sprintf("tree hash from tiles: %v", err))
	}
	for _, text := range strings.Split(*indexList, ",") {
		if text == "" {
			continue
		}
		index, err := strconv.ParseInt(text, 10, 64)
		check(err, "index")
		proof, err := tlog.ProveRecord(tree.N, index, hr)
		check(err, "ProveRecord")
		tileIndex := index / 256
		width := int64(256)
		if (tileIndex+1)*256 > tree.N {
			width = tree.N - tileIndex*256
		}
		entries := entryBundle(*base, tileIndex, width)
		if int64(len(entries)) != width {
			fail(fmt.Sprintf("entry bundle %d has %d entries, want %d", tileIndex, len(entries), width))
		}
		leaf := tlog.RecordHash(entries[index%256])
		check(tlog.CheckRecord(proof, tree.N, tree.Hash, index, leaf), "CheckRecord")
		fmt.Printf("ok inclusion of leaf %d\n", index)
	}
	if *oldSize > 0 {
		old, err := tlog.ParseHash(*oldRoot)
		check(err, "old root")
		proof, err := tlog.ProveTree(tree.N, *oldSize, hr)
		check(err, "ProveTree")
		check(tlog.CheckTree(proof, tree.N, tree.Hash, *oldSize, old), "CheckTree")
		// The log's own consistency proof (its JSON API) must pass Go's check too.
		served, err := get(fmt.Sprintf("%s/v1/log/proof/consistency?first=%d&second=%d", *base, *oldSize, tree.N))
		check(err, "consistency API")
		ours := tlog.TreeProof(jsonHashes(served))
		check(tlog.CheckTree(ours, tree.N, tree.Hash, *oldSize, old), "CheckTree (served proof)")
		fmt.Printf("ok consistency %d -> %d\n", *oldSize, tree.N)
	}
	if *proofFile != "" {
		verifyProofFile(*proofFile, vs, logName, ws, *quorum)
	}
}

// jsonHashes reads the hex "hashes" list of the consistency API's JSON.
func jsonHashes(body []byte) []tlog.Hash {
	var answer struct {
		Hashes []string `json:"hashes"`
	}
	check(json.Unmarshal(body, &answer), "consistency API JSON")
	var out []tlog.Hash
	for _, text := range answer.Hashes {
		raw, err := hex.DecodeString(text)
		if err != nil || len(raw) != tlog.HashSize {
			fail("consistency API: a hash is not 32 hex bytes")
		}
		var h tlog.Hash
		copy(h[:], raw)
		out = append(out, h)
	}
	return out
}

func verifyProofFile(path string, vs note.Verifiers, logName string, ws []*cosigVerifier, quorum int) {
	data, err := os.ReadFile(path)
	check(err, "proof file")
	head, checkpoint, found := strings.Cut(string(data), "\n\n")
	if !found {
		fail("tlog-proof: no empty line")
	}
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") || !strings.HasPrefix(lines[2], "index ") {
		fail("tlog-proof: bad header")
	}
	extra, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	check(err, "extra")
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	check(err, "index")
	var proof tlog.RecordProof
	for _, l := range lines[3:] {
		h, err := tlog.ParseHash(l)
		check(err, "proof hash")
		proof = append(proof, h)
	}
	n, cosigners := openCosigned([]byte(checkpoint), vs, logName, ws)
	if cosigners < quorum {
		fail(fmt.Sprintf("tlog-proof: %d cosignatures, quorum %d", cosigners, quorum))
	}
	_, tree, err := parseCheckpoint(n.Text)
	check(err, "tlog-proof checkpoint")
	check(tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(extra)), "tlog-proof CheckRecord")
	fmt.Printf("ok tlog-proof of leaf %d in size %d, %d cosignatures\n", index, tree.N, cosigners)
}

func check(err error, what string) {
	if err != nil {
		fail(what + ": " + err.Error())
	}
}

func fail(msg string) {
	fmt.Println("FAIL " + msg)
	os.Exit(1)
}
