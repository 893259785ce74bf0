/* Python's small objects on 2 MiB pages: an arena allocator for CPython's pymalloc.

   pymalloc, which holds every Python object of up to 512 bytes, takes its memory from the
   operating system in arenas (1 MiB on 64-bit CPython 3.11), each its own mmap of 4 KiB pages.
   The engine's children, units, events and lists fill some 400 MB of them in an England run and
   are read in scattered order, so much of a run's time goes on address translation (TLB misses).
   This allocator hands pymalloc its arenas from 32 MiB regions aligned to 2 MiB and marked for
   transparent huge pages (madvise MADV_HUGEPAGE): the kernel backs them with 2 MiB pages where
   it can (Linux; THP "madvise" or "always"), and where it cannot nothing changes but the
   addresses. Objects, their order and every result are the same: only where memory lies.

   An arena pymalloc gives back is kept for its next request of the same size (on a free list
   threaded through the freed memory), not returned to the system: the process's resident
   memory does not shrink after a run (it is reused by the next). Requests that are not
   multiples of 64 KiB (CPython's frame-stack chunks) and arenas made before install() go to
   the allocator that was there before. install() is called once per process by
   rcc_sim.engine.memory, before a model is built; it cannot be undone (the regions' arenas
   would have no one to free them). Built by setup.py with the compiled engine (Linux): after
   editing this file, rebuild with rcc-sim-compile (or the install again).
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if defined(__linux__)
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define REGION ((size_t)32 << 20)   /* memory reserved at a time; pages are touched when used */
#define MAX_REGIONS 4096            /* 128 GiB; then requests go to the previous allocator */
#define GRAIN ((size_t)64 << 10)    /* sizes handled: multiples of this, up to REGION */
#define MAX_SIZES 8                 /* distinct sizes with a free list (pymalloc asks one) */

typedef struct { char *lo, *hi; } Region;
typedef struct { size_t size; void *head; } FreeList;

static Region regions[MAX_REGIONS];
static int n_regions = 0;
static char *next_free = NULL;  /* the current region's first byte not yet handed out */
static size_t left = 0;         /* bytes of the current region not yet handed out */
static FreeList free_lists[MAX_SIZES];
static int n_sizes = 0;
static PyObjectArenaAllocator previous;
static int installed = 0;
static unsigned long long n_new = 0, n_reused = 0, n_passed = 0, n_leaked = 0;

static int
ours(const void *p)
{
    for (int i = n_regions - 1; i >= 0; i--) {
        if ((const char *)p >= regions[i].lo && (const char *)p < regions[i].hi) {
            return 1;
        }
    }
    return 0;
}

static FreeList *
free_list(size_t size, int create)
{
    for (int i = 0; i < n_sizes; i++) {
        if (free_lists[i].size == size) {
            return &free_lists[i];
        }
    }
    if (!create || n_sizes == MAX_SIZES) {
        return NULL;
    }
    free_lists[n_sizes].size = size;
    free_lists[n_sizes].head = NULL;
    return &free_lists[n_sizes++];
}

static int
new_region(void)
{
    if (n_regions == MAX_REGIONS) {
        return 0;
    }
    size_t span = REGION + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        return 0;
    }
    char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    char *end = start + REGION;
    if (start > raw) {
        munmap(raw, (size_t)(start - raw));  /* the unaligned ends go back */
    }
    if (raw + span > end) {
        munmap(end, (size_t)(raw + span - end));
    }
    (void)madvise(start, REGION, MADV_HUGEPAGE);  /* refused where THP is off: 4 KiB pages then */
    regions[n_regions].lo = start;
    regions[n_regions].hi = end;
    n_regions++;
    next_free = start;
    left = REGION;
    return 1;
}

static void *
arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size == 0 || size % GRAIN != 0 || size > REGION) {
        n_passed++;
        return previous.alloc(previous.ctx, size);
    }
    FreeList *fl = free_list(size, 0);
    if (fl != NULL && fl->head != NULL) {
        void *p = fl->head;
        fl->head = *(void **)p;
        n_reused++;
        return p;
    }
    if (left < size && !new_region()) {
        n_passed++;
        return previous.alloc(previous.ctx, size);
    }
    void *p = next_free;
    next_free += size;
    left -= size;
    n_new++;
    return p;
}

static void
arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (ptr == NULL) {
        return;
    }
    if (!ours(ptr)) {
        previous.free(previous.ctx, ptr, size);
        return;
    }
    FreeList *fl = free_list(size, 1);
    if (fl == NULL) {  /* a ninth size: its pages go back, the addresses are not used again */
        (void)madvise(ptr, size, MADV_DONTNEED);
        n_leaked++;
        return;
    }
    *(void **)ptr = fl->head;
    fl->head = ptr;
}

static PyObject *
install(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    if (!installed) {
        PyObjectArenaAllocator mine = {NULL, arena_alloc, arena_free};
        PyObject_GetArenaAllocator(&previous);
        PyObject_SetArenaAllocator(&mine);
        installed = 1;
    }
    Py_RETURN_TRUE;
}

static PyObject *
stats(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    unsigned long long free_blocks = 0;
    for (int i = 0; i < n_sizes; i++) {
        for (void *p = free_lists[i].head; p != NULL; p = *(void **)p) {
            free_blocks++;
        }
    }
    return Py_BuildValue(
        "{s:O,s:i,s:n,s:K,s:K,s:K,s:K,s:K}",
        "installed", installed ? Py_True : Py_False,
        "regions", n_regions,
        "reserved_bytes", (Py_ssize_t)(n_regions * REGION),
        "arenas_new", n_new,
        "arenas_reused", n_reused,
        "arenas_free", free_blocks,
        "passed_on", n_passed,
        "leaked", n_leaked);
}

#else /* not Linux: nothing to install */

static PyObject *
install(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    Py_RETURN_FALSE;
}

static PyObject *
stats(PyObject *module, PyObject *noargs)
{
    (void)module;
    (void)noargs;
    return Py_BuildValue("{s:O}", "installed", Py_False);
}

#endif

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS,
     "Give pymalloc its arenas from 2 MiB-aligned regions marked for huge pages (once per process). "
     "True if installed (Linux), False where not available."},
    {"stats", stats, METH_NOARGS,
     "Counts: regions reserved, arenas handed out new and reused, arenas free, requests passed on."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_hugepages",
    "pymalloc's arenas on transparent huge pages (see rcc_sim.engine.memory)", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__hugepages(void)
{
    return PyModule_Create(&module_def);
}
