package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fmnist/fmnist/internal/safefile"
)

// MirrorEnv names the environment variable that, when Options.BaseURL is
// empty, gives the base URL to download from instead of DefaultBaseURL:
// for a proxy, or a copy of the files of one's own.
const MirrorEnv = "FMNIST_MIRROR"

// baseURL is where a download comes from: Options.BaseURL, $FMNIST_MIRROR
// or the official mirror. Whichever it is, the files are checked against
// the same checksums.
func baseURL(opt Options) (string, error) {
	if err := CheckMirror(opt.BaseURL); err != nil {
		return "", err
	}
	base := opt.BaseURL
	if base == "" {
		base = os.Getenv(MirrorEnv)
	}
	if base == "" {
		return DefaultBaseURL, nil
	}
	return base, nil
}

// CheckMirror refuses a mirror URL (base, else $FMNIST_MIRROR when base is
// empty) that is not an http or https URL, before anything is fetched.
func CheckMirror(base string) error {
	from := "mirror"
	if base == "" {
		base, from = os.Getenv(MirrorEnv), "$"+MirrorEnv
	}
	if base == "" {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("dataset: %s %q: want an http:// or https:// URL of the folder holding the .gz files", from, base)
	}
	return nil
}

// DefaultBaseURL is the official Fashion-MNIST mirror.
const DefaultBaseURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

// DebianDir is where Debian's dataset-fashion-mnist package installs the
// files.
const DebianDir = "/usr/share/datasets/fashion-mnist"

// EnvVar names the environment variable that points to a data folder.
const EnvVar = "FMNIST_DATA"

// howToGet is appended to errors when no copy of the files is at hand.
const howToGet = "to get the files: apt-get install dataset-fashion-mnist (Debian), or pass --data DIR, or set " + EnvVar + "=DIR"

// FileSum is what a correct copy of one file hashes to.
type FileSum struct {
	Name    string // without .gz, like "train-images-idx3-ubyte"
	SHA256  string // hex, of the decompressed bytes
	Size    int64  // decompressed bytes
	GzipMD5 string // hex, of the mirror's .gz; checked on downloads only
}

// Official file names, in the order Load reads them.
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// OfficialSums returns the checksums of the released Fashion-MNIST files.
// Debian recompresses them, so the decompressed bytes are what is compared;
// the gzip MD5s fit only the mirror's files.
func OfficialSums() []FileSum {
	return []FileSum{
		{TrainImages, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
		{TrainLabels, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008, "25c81989df183df01b3e8a0aad5dffbe"},
		{TestImages, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016, "bef4ecab320f06d8554ea6380940ec79"},
		{TestLabels, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008, "bb300cfdad3c16e7a12a480ee83cd310"},
	}
}

// Options say where Load looks for the files and how it checks them. The
// zero value searches the usual places and verifies.
type Options struct {
	Dir      string        // explicit folder (the --data flag); when set, the only place looked at
	NoVerify bool          // skip the checksums of local files, for your own variant; a download is always checked
	BaseURL  string        // mirror to download from; "" means $FMNIST_MIRROR, else DefaultBaseURL
	CacheDir string        // "" means os.UserCacheDir()/fmnist
	Timeout  time.Duration // for each file's download; 0 means 10 minutes
	Log      io.Writer     // progress and "using ..." lines; nil is silent
	Offline  bool          // never download
	Sums     []FileSum     // expected checksums; nil means OfficialSums()
}

// SourceKind says which of the five places the files came from.
type SourceKind int

// The places Load looks, in its order.
const (
	FromDir      SourceKind = iota // Options.Dir (--data)
	FromEnv                        // $FMNIST_DATA
	FromCache                      // the user's cache folder
	FromDebian                     // Debian's package folder
	FromDownload                   // fetched from the mirror into the cache
)

func (k SourceKind) String() string {
	switch k {
	case FromDir:
		return "dir"
	case FromEnv:
		return "env"
	case FromCache:
		return "cache"
	case FromDebian:
		return "debian"
	case FromDownload:
		return "download"
	}
	return fmt.Sprintf("SourceKind(%d)", int(k))
}

// Fashion is the whole dataset: 60,000 training and 10,000 test items.
type Fashion struct {
	Train, Test *Set
	Kind        SourceKind
	Source      string // e.g. "Debian package /usr/share/datasets/fashion-mnist"
	Dir         string // the folder the files are in
	Verified    bool   // every file matched its checksum
}

// debianDir is DebianDir; tests point it elsewhere.
var debianDir = DebianDir

// Load finds, checks and decodes the four files. It looks, in order, at
// opt.Dir, $FMNIST_DATA, the cache folder, Debian's folder, and last
// downloads into the cache. A folder is used when it holds all four files
// (each as NAME.gz or raw NAME); opt.Dir and $FMNIST_DATA, being explicit,
// are used or fail, never skipped.
func Load(opt Options) (*Fashion, error) { return LoadContext(context.Background(), opt) }

// LoadContext is Load with a context that can cancel a download.
func LoadContext(ctx context.Context, opt Options) (*Fashion, error) {
	sums := opt.Sums
	if sums == nil {
		sums = OfficialSums()
	}
	names := [4]string{TrainImages, TrainLabels, TestImages, TestLabels}
	var paths [4]string // "" where the file is to be downloaded
	f := &Fashion{}

	cache := opt.CacheDir
	if cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "fmnist")
		}
	}
	env := os.Getenv(EnvVar)
	var looked []string
	found := false
	for _, c := range []struct {
		kind     SourceKind
		dir      string
		desc     string
		explicit bool
	}{
		{FromDir, opt.Dir, "directory " + opt.Dir + " (--data)", true},
		{FromEnv, env, "directory " + env + " ($" + EnvVar + ")", true},
		{FromCache, cache, "cache " + cache, false},
		{FromDebian, debianDir, "Debian package " + debianDir, false},
	} {
		if c.dir == "" {
			continue
		}
		var missing []string
		for i, name := range names {
			paths[i] = findFile(c.dir, name)
			if paths[i] == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			f.Kind, f.Source, f.Dir, found = c.kind, c.desc, c.dir, true
			break
		}
		if c.explicit {
			return nil, fmt.Errorf("dataset: %s: %w: no %s(.gz); %s", c.desc, ErrNotFound, strings.Join(missing, "(.gz), no "), howToGet)
		}
		looked = append(looked, c.desc)
	}
	if !found {
		switch {
		case opt.Offline:
			return nil, fmt.Errorf("dataset: %w in %s, and downloading is off; %s", ErrNotFound, strings.Join(looked, ", "), howToGet)
		case cache == "":
			return nil, fmt.Errorf("dataset: %w in %s, and there is no cache folder to download into; %s", ErrNotFound, strings.Join(looked, ", "), howToGet)
		}
		base, err := baseURL(opt)
		if err != nil {
			return nil, err
		}
		opt.BaseURL = base
		f.Kind, f.Source, f.Dir = FromDownload, "download from "+base+" into "+cache, cache
		// Files already complete in the cache are kept; only the missing
		// ones are fetched.
		for i, name := range names {
			paths[i] = findFile(cache, name)
		}
	}
	logf(opt.Log, "dataset: using %s\n", f.Source)

	var data [4][]uint8
	var nImages [4]int
	for i, name := range names {
		sum, ok := lookupSum(sums, name)
		if !ok && (!opt.NoVerify || paths[i] == "") {
			return nil, fmt.Errorf("dataset: %s: %w: no expected checksum given (use NoVerify for local files)", name, ErrChecksum)
		}
		var err error
		if paths[i] == "" {
			data[i], nImages[i], err = fetch(ctx, opt, f.Dir, name, i%2 == 0, sum)
		} else {
			data[i], nImages[i], err = loadFile(paths[i], i%2 == 0, sum, !opt.NoVerify)
			if err != nil && cache != "" && filepath.Dir(paths[i]) == filepath.Clean(cache) {
				err = fmt.Errorf("%w; delete %s to download it again", err, paths[i])
			}
		}
		if err != nil {
			return nil, err
		}
	}
	var err error
	if f.Train, err = pair(data[0], nImages[0], data[1], names[0], names[1]); err != nil {
		return nil, err
	}
	if f.Test, err = pair(data[2], nImages[2], data[3], names[2], names[3]); err != nil {
		return nil, err
	}
	f.Verified = !opt.NoVerify
	return f, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// findFile returns dir/name.gz or dir/name, whichever is a regular file,
// or "".
func findFile(dir, name string) string {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func lookupSum(sums []FileSum, name string) (FileSum, bool) {
	for _, s := range sums {
		if s.Name == name {
			return s, true
		}
	}
	return FileSum{}, false
}

func pair(images []uint8, n int, labels []uint8, imgName, lblName string) (*Set, error) {
	if n != len(labels) {
		return nil, fmt.Errorf("dataset: %w: %s has %d images, %s has %d labels", ErrCountMismatch, imgName, n, lblName, len(labels))
	}
	return &Set{Images: images, Labels: labels}, nil
}

// loadFile decodes one local file, hashing it on the way when verify.
func loadFile(path string, images bool, sum FileSum, verify bool) ([]uint8, int, error) {
	fh, _, err := safefile.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: %w", err)
	}
	defer fh.Close()
	return decodeVerify(fh, path, images, sum, verify)
}

// decodeVerify decodes r and, when verify, compares the SHA-256 of the
// decompressed bytes with sum.
func decodeVerify(r io.Reader, name string, images bool, sum FileSum, verify bool) ([]uint8, int, error) {
	var h hash.Hash
	if verify {
		h = sha256.New()
	}
	var data []uint8
	var n int
	var err error
	if images {
		data, n, err = decodeImages(r, name, h, MaxItems)
	} else {
		data, err = decodeLabels(r, name, h, MaxItems)
		n = len(data)
	}
	if err != nil {
		return nil, 0, err
	}
	if verify {
		size := int64(len(data)) + 8
		if images {
			size += 8
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(sum.SHA256) {
			return nil, 0, fmt.Errorf("dataset: %s: %w: decompressed SHA-256 %s (%d bytes), want %s (%d bytes); "+
				"use --no-verify (Options.NoVerify) for your own variant of the files", name, ErrChecksum, got, size, sum.SHA256, sum.Size)
		}
	}
	return data, n, nil
}

// errNoCache is returned when the cache folder cannot be created.
var errNoCache = errors.New("cannot create the cache folder")
