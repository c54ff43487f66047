package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
)

// fileCheck reads a B+tree file as bbolt lays it out, with reads of its own rather than
// bbolt's memory map, and reports what is wrong with it. The structure check covers
// everything bbolt would trip over when it opens the file or reads it: the meta pages,
// the free list, page ids past the end, pages of the wrong type or reached twice,
// elements that run past their page, and keys out of order. bbolt, which trusts the
// file, panics on those (with the free list not stored, as this store runs it, it walks
// every page at open, in a goroutine whose panic nothing can recover) or faults on
// pages past the end of its map. With values set it also verifies every value's
// checksum (schema 4) and reports pages that nothing reaches.
//
// The layout read here is bbolt's version 2 file format: a page starts with a 16-byte
// header (id, flags, element count, overflow page count); the two meta pages carry the
// page size, the root bucket, the free list and the high-water page id, with an FNV-1a
// checksum; branch elements are (pos, key size, child page id) and leaf elements (flags,
// pos, key size, value size), pos counting from the element itself; a bucket's value is
// its root page id and sequence, followed by the page itself when the bucket is inline.
// Integers are in the machine's byte order, as bbolt writes them.
type fileCheck struct {
	r        io.ReaderAt
	size     int64
	values   bool // verify value checksums and look for unreached pages
	pageSize int64
	hwm      uint64 // the meta's high-water page id: every page is below it
	schema   uint64
	seen     []bool                         // pages reached
	bufs     [2 * (maxTreeDepth + 1)][]byte // a page buffer per level of the walk (see readPage)
	problems []string
	cur      string // the bucket being walked, for the messages
	// fallback is set when the meta page of the file's last commit may be the one that
	// does not read: bbolt then opens the commit before it, losing the last one's writes.
	fallback string
}

// maxProblems is how many problems a check collects before it stops looking.
const maxProblems = 100

const (
	pageHeaderSize = 16
	elementSize    = 16
	metaSize       = 56 // up to the checksum
	branchFlag     = 0x01
	leafFlag       = 0x02
	metaFlag       = 0x04
	freelistFlag   = 0x10
	bucketLeafFlag = 0x01
	boltMagic      = 0xED0CDAED
	noFreelist     = ^uint64(0)
	maxTreeDepth   = 64
)

var ne = binary.NativeEndian

// checkFile checks the structure of the B+tree file r, of size bytes, and with values
// its every value too, and returns the problems it found (none when it is sound), and
// when one meta page does not read and may be the last commit's, what is in doubt. An
// empty file is sound: bbolt makes it a new one.
func checkFile(r io.ReaderAt, size int64, values bool) (problems []string, fallback string) {
	if size == 0 {
		return nil, ""
	}
	// The structure first, which also finds the schema version; then, with the schema
	// known, the values, which come in whatever order the buckets' names sort.
	c := &fileCheck{r: r, size: size}
	c.walk()
	if values && len(c.problems) == 0 {
		c = &fileCheck{r: r, size: size, values: true, schema: c.schema}
		c.walk()
	}
	return c.problems, c.fallback
}

// walk checks the meta pages, the free list and every bucket.
func (c *fileCheck) walk() {
	root, freelist, ok := c.meta()
	if !ok {
		return
	}
	c.seen = make([]bool, c.hwm)
	c.seen[0], c.seen[1] = true, true
	if freelist != noFreelist {
		c.freelist(freelist)
	}
	c.cur = "(root)"
	c.tree(root, nil, nil, 0, func(k, v []byte, flags uint32) {
		// The buckets' own trees are walked on the levels past the root's.
		if flags&bucketLeafFlag == 0 {
			c.problem("the root bucket holds a value under %q: only buckets belong there", k)
			return
		}
		c.cur = string(k)
		c.bucket(k, v)
		c.cur = "(root)"
	})
	if c.values && len(c.problems) == 0 && freelist != noFreelist {
		// With the free list not stored, bbolt counts every page not reached as free.
		for id, seen := range c.seen {
			if !seen {
				c.problem("page %d is neither reached nor free", id)
			}
		}
	}
}

func (c *fileCheck) problem(format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
}

func (c *fileCheck) full() bool { return len(c.problems) >= maxProblems }

// read returns n bytes at off, or false (with a problem) when the file has not them.
func (c *fileCheck) read(off, n int64, what string) ([]byte, bool) {
	if off < 0 || n < 0 || off+n > c.size || n > 1<<31 {
		c.problem("%s: %d bytes at offset %d lie past the end of the file (%d bytes)", what, n, off, c.size)
		return nil, false
	}
	buf := make([]byte, n)
	if _, err := c.r.ReadAt(buf, off); err != nil {
		c.problem("%s: read at offset %d: %v", what, off, err)
		return nil, false
	}
	return buf, true
}

// meta finds the page size and the meta page bbolt would use, as bbolt does: the page
// size of a valid first meta page, or of a valid second one found at one of the page
// sizes bbolt tries; then the valid meta with the larger transaction id.
func (c *fileCheck) meta() (root, freelist uint64, ok bool) {
	type meta struct {
		pageSize, flags     uint32
		root, freelist, hwm uint64
		txid                uint64
		valid               bool
	}
	parse := func(off int64) meta {
		buf := make([]byte, pageHeaderSize+metaSize+8)
		if n, _ := c.r.ReadAt(buf, off); n < len(buf) {
			return meta{}
		}
		m := buf[pageHeaderSize:]
		h := fnv.New64a()
		h.Write(m[:metaSize])
		return meta{pageSize: ne.Uint32(m[8:]), flags: ne.Uint32(m[12:]), root: ne.Uint64(m[16:]),
			freelist: ne.Uint64(m[32:]), hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:]),
			valid: ne.Uint32(m[0:]) == boltMagic && ne.Uint32(m[4:]) == 2 && ne.Uint64(m[metaSize:]) == h.Sum64()}
	}
	first := parse(0)
	pageSize := int64(first.pageSize)
	if !first.valid {
		pageSize = 0
		for i := range 15 {
			pos := int64(1024) << i
			if pos >= c.size-1024 {
				break
			}
			if m := parse(pos); m.valid {
				pageSize = int64(m.pageSize)
				break
			}
		}
	}
	if pageSize < 1024 || pageSize > 1<<24 || pageSize&(pageSize-1) != 0 {
		c.problem("no valid meta page: the file is not a B+tree file, or both of its meta pages are damaged")
		return 0, 0, false
	}
	c.pageSize = pageSize
	if c.size < 2*pageSize {
		c.problem("the file (%d bytes) is shorter than its two meta pages", c.size)
		return 0, 0, false
	}
	m0, m1 := parse(0), parse(pageSize)
	m := m0
	if m1.txid > m0.txid && m1.valid || !m0.valid {
		m = m1
	}
	// A commit writes the meta page txid%2: the other page holds the commit before, or,
	// when it does not read, perhaps a later one, torn by a crash or damaged since.
	if m0.valid != m1.valid {
		bad, page := m1, 1
		if !m0.valid {
			bad, page = m0, 0
		}
		if bad.txid != m.txid-1 {
			c.fallback = fmt.Sprintf("meta page %d does not read, and may be the file's last commit", page)
		}
	}
	switch {
	case !m.valid:
		c.problem("no valid meta page")
		return 0, 0, false
	case int64(m.pageSize) != pageSize:
		c.problem("the meta pages disagree on the page size (%d, %d)", m.pageSize, pageSize)
		return 0, 0, false
	case m.hwm < 3 || m.hwm > uint64(c.size/pageSize):
		c.problem("the meta page says the file has %d pages; it holds %d", m.hwm, c.size/pageSize)
		return 0, 0, false
	case m.root < 2 || m.root >= m.hwm:
		c.problem("the root bucket's page %d is outside the file's pages [2, %d)", m.root, m.hwm)
		return 0, 0, false
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm):
		c.problem("the free list's page %d is outside the file's pages [2, %d)", m.freelist, m.hwm)
		return 0, 0, false
	}
	c.hwm = m.hwm
	return m.root, m.freelist, true
}

// page is one page read: its header and its bytes (all of its overflow pages).
type page struct {
	id       uint64
	flags    uint16
	count    int
	overflow uint32
	data     []byte
}

// readPage reads page id, into the buffer of the walk's level (a page's keys stay in
// use while the pages under it are read), and marks it and its overflow reached.
func (c *fileCheck) readPage(id uint64, level int) (page, bool) {
	if id < 2 || id >= c.hwm {
		c.problem("bucket %s: page %d is outside the file's pages [2, %d)", c.cur, id, c.hwm)
		return page{}, false
	}
	hdr, ok := c.read(int64(id)*c.pageSize, pageHeaderSize, fmt.Sprintf("page %d", id))
	if !ok {
		return page{}, false
	}
	p := page{id: ne.Uint64(hdr), flags: ne.Uint16(hdr[8:]), count: int(ne.Uint16(hdr[10:])), overflow: ne.Uint32(hdr[12:])}
	if p.id != id {
		c.problem("bucket %s: page %d calls itself page %d", c.cur, id, p.id)
		return page{}, false
	}
	if uint64(p.overflow) >= c.hwm-id {
		c.problem("bucket %s: page %d runs %d pages past the end", c.cur, id, p.overflow)
		return page{}, false
	}
	for i := id; i <= id+uint64(p.overflow); i++ {
		if c.seen[i] {
			c.problem("bucket %s: page %d is reached twice", c.cur, i)
			return page{}, false
		}
		c.seen[i] = true
	}
	n := int64(p.overflow+1) * c.pageSize
	if int64(id)*c.pageSize+n > c.size {
		c.problem("page %d: its %d bytes lie past the end of the file", id, n)
		return page{}, false
	}
	if int64(cap(c.bufs[level])) < n {
		c.bufs[level] = make([]byte, n)
	}
	p.data = c.bufs[level][:n]
	if _, err := c.r.ReadAt(p.data, int64(id)*c.pageSize); err != nil {
		c.problem("page %d: read: %v", id, err)
		return page{}, false
	}
	return p, true
}

// freelist checks the stored free list: its page, and ids that are pages of the file
// reached nowhere else.
func (c *fileCheck) freelist(id uint64) {
	c.cur = "(free list)"
	p, ok := c.readPage(id, 0)
	if !ok {
		return
	}
	if p.flags != freelistFlag {
		c.problem("page %d, the free list, has flags %#x", id, p.flags)
		return
	}
	start, n := pageHeaderSize, p.count
	if n == 0xFFFF {
		if len(p.data) < pageHeaderSize+8 {
			c.problem("free list page %d is cut short", id)
			return
		}
		n, start = int(min(ne.Uint64(p.data[pageHeaderSize:]), uint64(len(p.data)))), pageHeaderSize+8
	}
	if start+8*n > len(p.data) {
		c.problem("free list page %d lists %d pages, more than it holds", id, n)
		return
	}
	for i := range n {
		free := ne.Uint64(p.data[start+8*i:])
		if free < 2 || free >= c.hwm || c.seen[free] {
			c.problem("the free list names page %d, which is not a free page of the file", free)
			return
		}
		c.seen[free] = true
	}
}

// bucket checks a bucket: its root page, or the page inline in its value.
func (c *fileCheck) bucket(name, v []byte) {
	if len(v) < 16 {
		c.problem("bucket %s: its header is %d bytes", name, len(v))
		return
	}
	id := slices.IndexFunc(allBuckets, func(b []byte) bool { return bytes.Equal(b, name) })
	visit := func(k, v []byte, flags uint32) {
		if flags&bucketLeafFlag != 0 {
			c.problem("bucket %s holds a bucket %q: it holds none", name, k)
			return
		}
		c.value(id, k, v)
	}
	if root := ne.Uint64(v); root != 0 {
		c.tree(root, nil, nil, maxTreeDepth+1, visit)
		return
	}
	// An inline bucket: a leaf page within the value.
	inline := v[16:]
	if len(inline) < pageHeaderSize {
		c.problem("bucket %s: its inline page is cut short", name)
		return
	}
	p := page{flags: ne.Uint16(inline[8:]), count: int(ne.Uint16(inline[10:])), data: inline}
	if p.flags != leafFlag {
		c.problem("bucket %s: its inline page has flags %#x", name, p.flags)
		return
	}
	c.leaf(p, nil, nil, visit)
}

// value notes the schema version, and verifies a value's checksum when the check
// covers values and the file has them.
func (c *fileCheck) value(id int, k, v []byte) {
	if id == int(bMeta) && bytes.Equal(k, keySchemaVersion) {
		if len(v) == 8 && !c.values {
			c.schema = binary.BigEndian.Uint64(v)
		}
		return
	}
	if !c.values || c.schema < 4 || id < 0 {
		return
	}
	if id == int(bMeta) && bytes.Equal(k, keySealing) {
		return
	}
	if _, err := unseal(byte(id), k, v); err != nil {
		c.problem("bucket %s: the value of key %x fails its checksum", c.cur, k)
	}
}

// tree checks the pages of a bucket's tree from page id, whose keys must be at least
// lo and below hi (nil: unbounded), calls visit with each leaf element, and returns the
// largest key under it.
func (c *fileCheck) tree(id uint64, lo, hi []byte, depth int, visit func(k, v []byte, flags uint32)) []byte {
	if depth%(maxTreeDepth+1) == maxTreeDepth {
		c.problem("bucket %s: the tree is deeper than %d pages", c.cur, maxTreeDepth)
		return nil
	}
	if c.full() {
		return nil
	}
	p, ok := c.readPage(id, depth)
	if !ok {
		return nil
	}
	switch p.flags {
	case leafFlag:
		return c.leaf(p, lo, hi, visit)
	case branchFlag:
	default:
		c.problem("bucket %s: page %d has flags %#x, not a branch or leaf page", c.cur, id, p.flags)
		return nil
	}
	if p.count == 0 {
		c.problem("bucket %s: branch page %d is empty", c.cur, id)
		return nil
	}
	keys := make([][]byte, p.count)
	children := make([]uint64, p.count)
	next := pageHeaderSize + p.count*elementSize // bbolt writes the keys one after another
	for i := range p.count {
		at := pageHeaderSize + i*elementSize
		if next > len(p.data) {
			c.problem("bucket %s: branch page %d: element %d runs past the page", c.cur, id, i)
			return nil
		}
		pos, ksize := int(ne.Uint32(p.data[at:])), int(ne.Uint32(p.data[at+4:]))
		if at+pos != next || next+ksize > len(p.data) {
			c.problem("bucket %s: branch page %d: the key of element %d is not where the page's layout puts it", c.cur, id, i)
			return nil
		}
		keys[i], children[i] = p.data[next:next+ksize], ne.Uint64(p.data[at+8:])
		next += ksize
	}
	if !zeros(p.data[next:]) {
		c.problem("bucket %s: branch page %d holds bytes past its last key: its element count is wrong", c.cur, id)
		return nil
	}
	// The order bbolt checks: each key at least the running minimum (the parent's key,
	// then the largest key under the previous child, strictly), below hi.
	var largest []byte
	for i, k := range keys {
		switch {
		case i == 0 && lo != nil && bytes.Compare(lo, k) > 0,
			i > 0 && bytes.Compare(largest, k) >= 0,
			hi != nil && bytes.Compare(k, hi) >= 0:
			c.problem("bucket %s: branch page %d: key %d (%x) is out of order", c.cur, id, i, k)
			return nil
		}
		next := hi
		if i+1 < len(keys) {
			next = keys[i+1]
		}
		largest = c.tree(children[i], k, next, depth+1, visit)
		if largest == nil && c.full() {
			return nil
		}
		if largest == nil {
			largest = k
		}
	}
	return largest
}

// leaf checks a leaf page's elements and their order, calls visit with each, and
// returns the largest key.
func (c *fileCheck) leaf(p page, lo, hi []byte, visit func(k, v []byte, flags uint32)) []byte {
	var prev []byte
	// bbolt writes the keys and values one after another behind the elements, and the
	// rest of the page is zeros: a changed count, position or size shows.
	next := int64(pageHeaderSize + p.count*elementSize)
	if next > int64(len(p.data)) {
		c.problem("bucket %s: leaf page %d: %d elements run past the page", c.cur, p.id, p.count)
		return nil
	}
	for i := range p.count {
		at := int64(pageHeaderSize + i*elementSize)
		flags := ne.Uint32(p.data[at:])
		pos, ksize, vsize := int64(ne.Uint32(p.data[at+4:])), int64(ne.Uint32(p.data[at+8:])), int64(ne.Uint32(p.data[at+12:]))
		if at+pos != next || next+ksize+vsize > int64(len(p.data)) || flags&^bucketLeafFlag != 0 {
			c.problem("bucket %s: leaf page %d: element %d is not where the page's layout puts it, or has flags %#x", c.cur, p.id, i, flags)
			return nil
		}
		k := p.data[next : next+ksize]
		v := p.data[next+ksize : next+ksize+vsize]
		next += ksize + vsize
		switch {
		case i == 0 && lo != nil && bytes.Compare(lo, k) > 0,
			i > 0 && bytes.Compare(prev, k) >= 0,
			hi != nil && bytes.Compare(k, hi) >= 0:
			c.problem("bucket %s: leaf page %d: key %d (%x) is out of order", c.cur, p.id, i, k)
			return nil
		}
		prev = k
		visit(k, v, flags)
		if c.full() {
			return nil
		}
	}
	if !zeros(p.data[next:]) {
		c.problem("bucket %s: leaf page %d holds bytes past its last value: its element count or a size is wrong", c.cur, p.id)
		return nil
	}
	return prev
}

func zeros(b []byte) bool {
	for len(b) >= 8 {
		if ne.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
