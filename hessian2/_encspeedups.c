/*
 * Optional compiled hot loop of the hessian2 encoder: Encoder.write_any and the
 * per-class writers (ObjectPlan.write) in C.
 *
 * Contract: exactly the bytes and errors of the pure-Python encoder in
 * _encoder.py (which stays the reference and the fallback). Written here:
 * None, bool, exact int (Java int, else long), exact float (with
 * Hessian2Output.writeDouble's compact forms), exact str (UTF-16 unit counts,
 * CESU-8, 0x8000-unit chunks never ending on a high surrogate), exact
 * list/tuple (ArrayList) and dict (HashMap) with their references, and
 * instances of bound dataclasses whose ObjectPlan exists, including their
 * typed fields (int/short/byte/long/double/bool/str/object/list/map of those).
 * Everything else -- other types, class definitions not yet written, values a
 * typed field must convert or refuse, ints beyond a Java long -- is handed to
 * the Python writer that the pure path would call, so the grammar, type names,
 * class definitions and error messages exist once, in Python.
 *
 * The output goes straight into enc.buf (a bytearray), so Python writers called
 * back see every byte written so far; enc.depth is written back before every
 * call into Python. Built by setup.py as an optional extension;
 * HESSIAN2_PURE_PYTHON=1 disables it at import time (see _encoder.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define CHUNK 0x8000

enum { N_ANY = 0, N_INT = 1, N_SHORT = 2, N_BYTE = 3, N_LONG = 4, N_DOUBLE = 5, N_BOOL = 6, N_STR = 7,
       N_OBJECT = 8, N_LIST = 9, N_MAP = 10, N_OTHER = 11 };

static PyObject *g_pure_any = NULL;     /* the pure-Python Encoder.write_any */
static PyObject *g_dispatch = NULL;     /* _encoder._DISPATCH */
static PyObject *g_plans = NULL;        /* _encoder._PLANS */
static PyObject *g_write_bound = NULL;  /* _objects.write_bound */
static PyObject *g_begin_object = NULL; /* _objects.begin_object */
static PyObject *g_encode_error = NULL; /* _errors.EncodeError */
static Py_ssize_t g_max_depth = 200;
static int g_enabled = 1;
static PyObject *s_buf, *s_refs, *s_alive, *s_classdefs, *s_depth, *s_enter, *s_native, *s_checkpoint, *s_paused;

#define OUT_SIZE 1024   /* bytes gathered here before they go into enc.buf */
#define CACHE_SIZE 8    /* bound classes remembered per call */

typedef struct {
    PyTypeObject *type;   /* borrowed: the plan in _PLANS keeps it alive */
    PyObject *native;     /* new reference */
    long classdef;        /* index in enc.classdefs once seen there (indices never change), else -1 */
} CacheEntry;

typedef struct {
    PyObject *enc;
    PyObject *buf;        /* new references, loaded when first needed */
    PyObject *refs;
    PyObject *alive;
    PyObject *classdefs;
    Py_ssize_t depth;
    Py_ssize_t checkpoint; /* enc.checkpoint: the output length at which enc.paused() is due */
    Py_ssize_t used;      /* bytes in out[] not yet in buf */
    int cached;
    CacheEntry cache[CACHE_SIZE];
    unsigned char out[OUT_SIZE];
} State;

static int
load_checkpoint(State *st)
{
    PyObject *c = PyObject_GetAttr(st->enc, s_checkpoint);
    if (c == NULL)
        return -1;
    st->checkpoint = PyLong_AsSsize_t(c);
    Py_DECREF(c);
    return (st->checkpoint == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int flush(State *st);

/* Between two elements of a container: enc.paused() once the output passed enc.checkpoint. */
static inline int
maybe_pause(State *st)
{
    if (PyByteArray_GET_SIZE(st->buf) + st->used < st->checkpoint)
        return 0;
    if (flush(st) < 0)
        return -1;
    PyObject *r = PyObject_CallMethodNoArgs(st->enc, s_paused);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return load_checkpoint(st);
}

static int
state_init(State *st, PyObject *enc)
{
    st->enc = enc;
    st->refs = st->alive = st->classdefs = NULL;
    st->used = 0;
    st->cached = 0;
    st->buf = PyObject_GetAttr(enc, s_buf);
    if (st->buf == NULL)
        return -1;
    if (!PyByteArray_CheckExact(st->buf)) {
        PyErr_SetString(PyExc_TypeError, "Encoder.buf must be a bytearray");
        return -1;
    }
    PyObject *d = PyObject_GetAttr(enc, s_depth);
    if (d == NULL)
        return -1;
    st->depth = PyLong_AsSsize_t(d);
    Py_DECREF(d);
    if (st->depth == -1 && PyErr_Occurred())
        return -1;
    return load_checkpoint(st);
}

/* The gathered bytes into enc.buf: before any call into Python, and at the end. */
static int
flush(State *st)
{
    if (st->used == 0)
        return 0;
    Py_ssize_t len = PyByteArray_GET_SIZE(st->buf);
    if (PyByteArray_Resize(st->buf, len + st->used) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(st->buf) + len, st->out, (size_t)st->used);
    st->used = 0;
    return 0;
}

static void
state_clear(State *st)
{
    Py_CLEAR(st->buf);
    Py_CLEAR(st->refs);
    Py_CLEAR(st->alive);
    Py_CLEAR(st->classdefs);
    for (int i = 0; i < st->cached; i++)
        Py_DECREF(st->cache[i].native);
    st->cached = 0;
}

/* Flush, then clear; returns rc, or -1 if the flush failed. */
static int
state_finish(State *st, int rc)
{
    if (rc == 0 && st->buf != NULL && flush(st) < 0)
        rc = -1;
    state_clear(st);
    return rc;
}

static int
load_refs(State *st)
{
    if (st->refs != NULL)
        return 0;
    st->refs = PyObject_GetAttr(st->enc, s_refs);
    if (st->refs == NULL)
        return -1;
    st->alive = PyObject_GetAttr(st->enc, s_alive);
    if (st->alive == NULL)
        return -1;
    if (!PyDict_CheckExact(st->refs) || !PyList_CheckExact(st->alive)) {
        PyErr_SetString(PyExc_TypeError, "Encoder.refs must be a dict and _alive a list");
        return -1;
    }
    return 0;
}

/* enc.depth = st->depth, before any call into Python. */
static int
sync_depth(State *st)
{
    if (flush(st) < 0)
        return -1;
    PyObject *v = PyLong_FromSsize_t(st->depth);
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttr(st->enc, s_depth, v);
    Py_DECREF(v);
    return rc;
}

/* A Python writer(enc, value). */
static int
call_writer(State *st, PyObject *writer, PyObject *value)
{
    if (sync_depth(st) < 0)
        return -1;
    PyObject *args[2] = {st->enc, value};
    PyObject *r = PyObject_Vectorcall(writer, args, 2, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* depth + 1, or Encoder.enter()'s EncodeError past the limit. */
static int
enter(State *st)
{
    st->depth++;
    if (st->depth <= g_max_depth)
        return 0;
    st->depth--;
    if (sync_depth(st) < 0)
        return -1;
    PyObject *r = PyObject_CallMethodNoArgs(st->enc, s_enter);
    if (r != NULL) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_RuntimeError, "Encoder.enter() did not refuse the depth");
    }
    return -1;
}

/* ---------------------------------------------------------------- bytes */

/* Room for n more bytes of output, in order after everything written so far. */
static inline unsigned char *
grow(State *st, Py_ssize_t n)
{
    if (st->used + n <= OUT_SIZE) {
        unsigned char *p = st->out + st->used;
        st->used += n;
        return p;
    }
    if (flush(st) < 0)
        return NULL;
    if (n <= OUT_SIZE) {
        st->used = n;
        return st->out;
    }
    Py_ssize_t len = PyByteArray_GET_SIZE(st->buf);  /* a big piece goes straight into buf */
    if (PyByteArray_Resize(st->buf, len + n) < 0)
        return NULL;
    return (unsigned char *)PyByteArray_AS_STRING(st->buf) + len;
}

static int
put1(State *st, unsigned int b)
{
    unsigned char *p = grow(st, 1);
    if (p == NULL)
        return -1;
    p[0] = (unsigned char)b;
    return 0;
}

static void
be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int
w_int(State *st, long long v)  /* caller guarantees a Java int */
{
    unsigned char *p;
    if (v >= -16 && v <= 47)
        return put1(st, (unsigned int)(0x90 + v));
    if (v >= -2048 && v <= 2047) {
        if ((p = grow(st, 2)) == NULL)
            return -1;
        p[0] = (unsigned char)(0xC8 + (v >> 8));
        p[1] = (unsigned char)(v & 0xFF);
        return 0;
    }
    if (v >= -262144 && v <= 262143) {
        if ((p = grow(st, 3)) == NULL)
            return -1;
        p[0] = (unsigned char)(0xD4 + (v >> 16));
        p[1] = (unsigned char)((v >> 8) & 0xFF);
        p[2] = (unsigned char)(v & 0xFF);
        return 0;
    }
    if ((p = grow(st, 5)) == NULL)
        return -1;
    p[0] = 0x49;
    be32(p + 1, (uint32_t)(int32_t)v);
    return 0;
}

static int
w_long(State *st, long long v)
{
    unsigned char *p;
    if (v >= -8 && v <= 15)
        return put1(st, (unsigned int)(0xE0 + v));
    if (v >= -2048 && v <= 2047) {
        if ((p = grow(st, 2)) == NULL)
            return -1;
        p[0] = (unsigned char)(0xF8 + (v >> 8));
        p[1] = (unsigned char)(v & 0xFF);
        return 0;
    }
    if (v >= -262144 && v <= 262143) {
        if ((p = grow(st, 3)) == NULL)
            return -1;
        p[0] = (unsigned char)(0x3C + (v >> 16));
        p[1] = (unsigned char)((v >> 8) & 0xFF);
        p[2] = (unsigned char)(v & 0xFF);
        return 0;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        if ((p = grow(st, 5)) == NULL)
            return -1;
        p[0] = 0x59;
        be32(p + 1, (uint32_t)(int32_t)v);
        return 0;
    }
    if ((p = grow(st, 9)) == NULL)
        return -1;
    p[0] = 0x4C;
    be32(p + 1, (uint32_t)((unsigned long long)v >> 32));
    be32(p + 5, (uint32_t)(unsigned long long)v);
    return 0;
}

/* Java's (int) of a double: truncate, saturate, NaN -> 0 (as _scalars does). */
static int32_t
java_int(double v)
{
    if (v > -2147483648.0 && v < 2147483648.0)
        return (int32_t)v;
    if (v != v)
        return 0;
    return v >= 2147483647.0 ? INT32_MAX : INT32_MIN;
}

static int
w_double(State *st, double v)
{
    unsigned char *p;
    int32_t as_int = java_int(v);
    if ((double)as_int == v) {
        if (as_int == 0)
            return put1(st, 0x5B);
        if (as_int == 1)
            return put1(st, 0x5C);
        if (as_int >= -0x80 && as_int < 0x80) {
            if ((p = grow(st, 2)) == NULL)
                return -1;
            p[0] = 0x5D;
            p[1] = (unsigned char)(as_int & 0xFF);
            return 0;
        }
        if (as_int >= -0x8000 && as_int < 0x8000) {
            if ((p = grow(st, 3)) == NULL)
                return -1;
            p[0] = 0x5E;
            p[1] = (unsigned char)((as_int >> 8) & 0xFF);
            p[2] = (unsigned char)(as_int & 0xFF);
            return 0;
        }
    }
    volatile double scaled = v * 1000;
    int32_t mills = java_int(scaled);
    volatile double back = 0.001 * (double)mills;
    if (back == v) {
        if ((p = grow(st, 5)) == NULL)
            return -1;
        p[0] = 0x5F;
        be32(p + 1, (uint32_t)mills);
        return 0;
    }
    if ((p = grow(st, 9)) == NULL)
        return -1;
    p[0] = 0x44;
    if (PyFloat_Pack8(v, (char *)p + 1, 0) < 0)
        return -1;
    return 0;
}

static int
w_header(State *st, Py_ssize_t units)
{
    unsigned char *p;
    if (units <= 31)
        return put1(st, (unsigned int)units);
    if (units <= 1023) {
        if ((p = grow(st, 2)) == NULL)
            return -1;
        p[0] = (unsigned char)(0x30 + (units >> 8));
        p[1] = (unsigned char)(units & 0xFF);
        return 0;
    }
    if ((p = grow(st, 3)) == NULL)
        return -1;
    p[0] = 0x53;
    p[1] = (unsigned char)(units >> 8);
    p[2] = (unsigned char)(units & 0xFF);
    return 0;
}

/* UTF-16 units [start, stop) as CESU-8 (each unit on its own, surrogates as 3 bytes). */
static int
w_units(State *st, const uint16_t *u, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t size = 0, i;
    for (i = start; i < stop; i++)
        size += u[i] < 0x80 ? 1 : u[i] < 0x800 ? 2 : 3;
    unsigned char *p = grow(st, size);
    if (p == NULL)
        return -1;
    for (i = start; i < stop; i++) {
        unsigned int c = u[i];
        if (c < 0x80) {
            *p++ = (unsigned char)c;
        } else if (c < 0x800) {
            *p++ = (unsigned char)(0xC0 | (c >> 6));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *p++ = (unsigned char)(0xE0 | (c >> 12));
            *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    return 0;
}

static int
w_str(State *st, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    unsigned char *p;
    if (PyUnicode_IS_ASCII(s)) {
        const char *data = (const char *)PyUnicode_DATA(s);
        Py_ssize_t start = 0;
        while (n - start > CHUNK) {
            if ((p = grow(st, 3 + CHUNK)) == NULL)
                return -1;
            p[0] = 0x52;
            p[1] = CHUNK >> 8;
            p[2] = CHUNK & 0xFF;
            memcpy(p + 3, data + start, CHUNK);
            start += CHUNK;
        }
        if (w_header(st, n - start) < 0 || (p = grow(st, n - start)) == NULL)
            return -1;
        memcpy(p, data + start, n - start);
        return 0;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t units = n, i, j;
    if (kind == PyUnicode_4BYTE_KIND)
        for (i = 0; i < n; i++)
            if (PyUnicode_READ(kind, data, i) > 0xFFFF)
                units++;
    uint16_t *u = PyMem_Malloc(sizeof(uint16_t) * (size_t)(units ? units : 1));
    if (u == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0, j = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c > 0xFFFF) {
            c -= 0x10000;
            u[j++] = (uint16_t)(0xD800 + (c >> 10));
            u[j++] = (uint16_t)(0xDC00 + (c & 0x3FF));
        } else {
            u[j++] = (uint16_t)c;
        }
    }
    Py_ssize_t start = 0;
    int rc = 0;
    while (rc == 0 && units - start > CHUNK) {
        Py_ssize_t size = CHUNK;
        if (u[start + size - 1] >= 0xD800 && u[start + size - 1] <= 0xDBFF)
            size--;
        if ((p = grow(st, 3)) == NULL) {
            rc = -1;
            break;
        }
        p[0] = 0x52;
        p[1] = (unsigned char)(size >> 8);
        p[2] = (unsigned char)(size & 0xFF);
        rc = w_units(st, u, start, start + size);
        start += size;
    }
    if (rc == 0)
        rc = w_header(st, units - start);
    if (rc == 0)
        rc = w_units(st, u, start, units);
    PyMem_Free(u);
    return rc;
}

/* ---------------------------------------------------------------- containers and objects */

/* 1: a reference to an earlier write was written; 0: first time, now numbered; -1: error (Encoder.seen). */
static int
seen(State *st, PyObject *obj)
{
    if (load_refs(st) < 0)
        return -1;
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (key == NULL)
        return -1;
    PyObject *index = PyDict_GetItemWithError(st->refs, key);
    if (index != NULL) {
        Py_DECREF(key);
        long long i = PyLong_AsLongLong(index);
        if (i == -1 && PyErr_Occurred())
            return -1;
        if (put1(st, 0x51) < 0 || w_int(st, i) < 0)
            return -1;
        return 1;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(key);
        return -1;
    }
    PyObject *count = PyLong_FromSsize_t(PyList_GET_SIZE(st->alive));
    int rc = count == NULL ? -1 : PyDict_SetItem(st->refs, key, count);
    Py_XDECREF(count);
    Py_DECREF(key);
    if (rc < 0 || PyList_Append(st->alive, obj) < 0)
        return -1;
    return 0;
}

static int w_any(State *st, PyObject *v);
static int w_node(State *st, PyObject *node, PyObject *v);

/* One element or key/value: by node, or untyped when node is NULL. */
static inline int
w_item(State *st, PyObject *node, PyObject *v)
{
    return node == NULL ? w_any(st, v) : w_node(st, node, v);
}

/* write_list(enc, value, None, item) for an exact list or tuple. */
static int
w_list(State *st, PyObject *seq, PyObject *item)
{
    int s = seen(st, seq);
    if (s != 0)
        return s < 0 ? -1 : 0;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    if (size <= 7) {
        if (put1(st, (unsigned int)(0x78 + size)) < 0)
            return -1;
    } else if (put1(st, 0x58) < 0 || w_int(st, size) < 0) {
        return -1;
    }
    if (enter(st) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *element = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        int rc = w_item(st, item, element);
        Py_DECREF(element);
        if (rc < 0 || maybe_pause(st) < 0)
            return -1;
    }
    st->depth--;
    return 0;
}

/* write_map(enc, value, key, item) for an exact dict. */
static int
w_map(State *st, PyObject *map, PyObject *knode, PyObject *vnode)
{
    int s = seen(st, map);
    if (s != 0)
        return s < 0 ? -1 : 0;
    if (put1(st, 0x48) < 0 || enter(st) < 0)
        return -1;
    PyObject *items = PyDict_Items(map);  /* a snapshot, like iterating a dict nothing mutates */
    if (items == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (w_item(st, knode, PyTuple_GET_ITEM(pair, 0)) < 0 || w_item(st, vnode, PyTuple_GET_ITEM(pair, 1)) < 0 ||
            maybe_pause(st) < 0) {
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);
    st->depth--;
    return put1(st, 0x5A);
}

/* The generated ObjectPlan writer, for native = (key, java_class, names, ((name, node), ...), pywrite). */
static int
w_plan(State *st, PyObject *native, PyObject *obj, CacheEntry *entry)
{
    PyObject *key = PyTuple_GET_ITEM(native, 0), *java = PyTuple_GET_ITEM(native, 1);
    PyObject *names = PyTuple_GET_ITEM(native, 2), *fields = PyTuple_GET_ITEM(native, 3);
    int s = seen(st, obj);
    if (s != 0)
        return s < 0 ? -1 : 0;
    long idx = entry != NULL ? entry->classdef : -1;
    if (idx < 0) {
        if (st->classdefs == NULL && (st->classdefs = PyObject_GetAttr(st->enc, s_classdefs)) == NULL)
            return -1;
        PyObject *index = PyObject_GetItem(st->classdefs, key);  /* classdefs.get(KEY) */
        if (index != NULL) {
            idx = PyLong_AsLong(index);
            Py_DECREF(index);
            if (idx == -1 && PyErr_Occurred())
                return -1;
            if (entry != NULL && idx >= 0)
                entry->classdef = idx;
        } else if (PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
        } else {
            return -1;
        }
    }
    if (idx >= 0 && idx <= 15) {
        if (put1(st, (unsigned int)(0x60 + idx)) < 0)
            return -1;
    } else {
        if (sync_depth(st) < 0)
            return -1;
        PyObject *r = PyObject_CallFunctionObjArgs(g_begin_object, st->enc, java, names, key, NULL);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    if (enter(st) < 0)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        PyObject *name = PyTuple_GET_ITEM(field, 0);
        PyObject *v = PyObject_GetAttr(obj, name);
        int rc = v == NULL ? -1 : w_node(st, PyTuple_GET_ITEM(field, 1), v);
        Py_XDECREF(v);
        if (rc == 0)
            continue;
        /* raise EncodeError(f'{JAVA}.{field}: {exc}') from None, for EncodeError and AttributeError */
        if (PyErr_ExceptionMatches(g_encode_error) || PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            PyObject *msg = PyUnicode_FromFormat("%U.%U: %S", java, name, value);
            PyObject *exc = msg == NULL ? NULL : PyObject_CallOneArg(g_encode_error, msg);
            Py_XDECREF(msg);
            if (exc != NULL) {
                PyException_SetCause(exc, NULL);  /* from None */
                PyException_SetContext(exc, Py_NewRef(value));
                PyErr_SetObject(g_encode_error, exc);
                Py_DECREF(exc);
            }
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        }
        return -1;
    }
    st->depth--;
    return 0;
}

/* The ObjectPlan's native tuple of a bound class (a new reference) and its cache entry
 * (NULL once the cache is full), or NULL with no error set when the class has no
 * compiled plan yet (then the Python writer makes one). */
static PyObject *
native_of(State *st, PyTypeObject *cls, CacheEntry **entry)
{
    *entry = NULL;
    for (int i = 0; i < st->cached; i++)
        if (st->cache[i].type == cls) {
            *entry = &st->cache[i];
            return Py_NewRef(st->cache[i].native);
        }
    PyObject *plan = PyDict_GetItemWithError(g_plans, (PyObject *)cls);
    if (plan == NULL)
        return NULL;
    PyObject *native = PyObject_GetAttr(plan, s_native);
    if (native == NULL)
        return NULL;
    if (!PyTuple_CheckExact(native) || PyTuple_GET_SIZE(native) != 5) {
        Py_DECREF(native);
        return NULL;  /* a plan made while the compiled writers were not installed */
    }
    if (st->cached < CACHE_SIZE) {
        CacheEntry *e = *entry = &st->cache[st->cached++];
        e->type = cls;
        e->native = Py_NewRef(native);
        e->classdef = -1;
    }
    return native;
}

/* An instance of a bound class: 1 written, 0 not handled here (no error), -1 error. */
static int
w_bound(State *st, PyTypeObject *t, PyObject *v)
{
    CacheEntry *entry;
    PyObject *native = native_of(st, t, &entry);
    if (native == NULL)
        return PyErr_Occurred() ? -1 : 0;
    int rc = w_plan(st, native, v, entry);
    Py_DECREF(native);
    return rc < 0 ? -1 : 1;
}

static int
w_any(State *st, PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None)
        return put1(st, 0x4E);
    if (v == Py_True || v == Py_False)
        return put1(st, v == Py_True ? 0x54 : 0x46);
    if (t == &PyLong_Type) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (!overflow)
            return (x >= INT32_MIN && x <= INT32_MAX) ? w_int(st, x) : w_long(st, x);
    }
    else if (t == &PyFloat_Type)
        return w_double(st, PyFloat_AS_DOUBLE(v));
    else if (t == &PyUnicode_Type)
        return w_str(st, v);
    else if (t == &PyList_Type || t == &PyTuple_Type)
        return w_list(st, v, NULL);
    else if (t == &PyDict_Type)
        return w_map(st, v, NULL, NULL);
    else {
        PyObject *writer = PyDict_GetItemWithError(g_dispatch, (PyObject *)t);
        if (writer == NULL && PyErr_Occurred())
            return -1;
        if (writer == g_write_bound) {
            int rc = w_bound(st, t, v);
            if (rc != 0)
                return rc < 0 ? -1 : 0;
        }
    }
    return call_writer(st, g_pure_any, v);
}

/* A field, list element or map key/value whose annotation compiled to node = (code, writer, arg). */
static int
w_node(State *st, PyObject *node, PyObject *v)
{
    long code = PyLong_AsLong(PyTuple_GET_ITEM(node, 0));
    PyTypeObject *t = Py_TYPE(v);
    if (code == N_ANY)
        return w_any(st, v);
    if (v == Py_None && code != N_OTHER)
        return put1(st, 0x4E);
    switch (code) {
    case N_INT: case N_SHORT: case N_BYTE:
        if (t == &PyLong_Type) {
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred())
                return -1;
            long long low = code == N_INT ? INT32_MIN : code == N_SHORT ? -32768 : -128;
            long long high = code == N_INT ? INT32_MAX : code == N_SHORT ? 32767 : 127;
            if (!overflow && x >= low && x <= high)
                return w_int(st, x);
        }
        break;
    case N_LONG:
        if (t == &PyLong_Type) {
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred())
                return -1;
            if (!overflow)
                return w_long(st, x);
        }
        break;
    case N_DOUBLE:
        if (t == &PyFloat_Type)
            return w_double(st, PyFloat_AS_DOUBLE(v));
        break;
    case N_BOOL:
        if (v == Py_True || v == Py_False)
            return put1(st, v == Py_True ? 0x54 : 0x46);
        break;
    case N_STR:
        if (t == &PyUnicode_Type)
            return w_str(st, v);
        break;
    case N_OBJECT:
        if ((PyObject *)t == PyTuple_GET_ITEM(node, 2)) {
            int rc = w_bound(st, t, v);
            if (rc != 0)
                return rc < 0 ? -1 : 0;
        }
        break;
    case N_LIST:
        if (t == &PyList_Type || t == &PyTuple_Type) {
            PyObject *item = PyTuple_GET_ITEM(node, 2);
            return w_list(st, v, item == Py_None ? NULL : item);
        }
        break;
    case N_MAP:
        if (t == &PyDict_Type) {
            PyObject *kv = PyTuple_GET_ITEM(node, 2);
            PyObject *k = PyTuple_GET_ITEM(kv, 0), *val = PyTuple_GET_ITEM(kv, 1);
            return w_map(st, v, k == Py_None ? NULL : k, val == Py_None ? NULL : val);
        }
        break;
    default:
        break;
    }
    return call_writer(st, PyTuple_GET_ITEM(node, 1), v);
}

/* ---------------------------------------------------------------- entry points */

/* write_any(enc, value): Encoder.write_any. */
static PyObject *
write_any(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "write_any(enc, value)");
        return NULL;
    }
    if (!g_enabled)
        return PyObject_Vectorcall(g_pure_any, args, 2, NULL);
    State st;
    int rc = state_init(&st, args[0]) < 0 ? -1 : w_any(&st, args[1]);
    rc = state_finish(&st, rc);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* write_plan(native, enc, obj): ObjectPlan.write (bound with functools.partial). */
static PyObject *
write_plan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 5) {
        PyErr_SetString(PyExc_TypeError, "write_plan(native, enc, obj)");
        return NULL;
    }
    if (!g_enabled)
        return PyObject_Vectorcall(PyTuple_GET_ITEM(args[0], 4), args + 1, 2, NULL);
    State st;
    int rc = state_init(&st, args[1]) < 0 ? -1 : w_plan(&st, args[0], args[2], NULL);
    rc = state_finish(&st, rc);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *pure_any, *dispatch, *plans, *write_bound, *begin_object, *encode_error;
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "OO!O!OOOn", &pure_any, &PyDict_Type, &dispatch, &PyDict_Type, &plans,
                          &write_bound, &begin_object, &encode_error, &max_depth))
        return NULL;
    Py_XSETREF(g_pure_any, Py_NewRef(pure_any));
    Py_XSETREF(g_dispatch, Py_NewRef(dispatch));
    Py_XSETREF(g_plans, Py_NewRef(plans));
    Py_XSETREF(g_write_bound, Py_NewRef(write_bound));
    Py_XSETREF(g_begin_object, Py_NewRef(begin_object));
    Py_XSETREF(g_encode_error, Py_NewRef(encode_error));
    g_max_depth = max_depth;
    Py_RETURN_NONE;
}

static PyObject *
set_enabled(PyObject *module, PyObject *flag)
{
    int on = PyObject_IsTrue(flag);
    if (on < 0)
        return NULL;
    PyObject *previous = PyBool_FromLong(g_enabled);
    g_enabled = on;
    return previous;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(pure_write_any, dispatch, plans, write_bound, begin_object, EncodeError, max_depth)"},
    {"write_any", (PyCFunction)(void (*)(void))write_any, METH_FASTCALL, "write_any(enc, value) in C"},
    {"write_plan", (PyCFunction)(void (*)(void))write_plan, METH_FASTCALL, "write_plan(native, enc, obj) in C"},
    {"set_enabled", set_enabled, METH_O,
     "set_enabled(flag) -> previous: False hands every call to the pure-Python writers (tests, benchmarks)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "hessian2._encspeedups", "Compiled Encoder.write_any and object writers (optional).",
    -1, module_methods,
};

PyMODINIT_FUNC
PyInit__encspeedups(void)
{
    s_buf = PyUnicode_InternFromString("buf");
    s_refs = PyUnicode_InternFromString("refs");
    s_alive = PyUnicode_InternFromString("_alive");
    s_classdefs = PyUnicode_InternFromString("classdefs");
    s_depth = PyUnicode_InternFromString("depth");
    s_enter = PyUnicode_InternFromString("enter");
    s_native = PyUnicode_InternFromString("native");
    s_checkpoint = PyUnicode_InternFromString("checkpoint");
    s_paused = PyUnicode_InternFromString("paused");
    if (!s_buf || !s_refs || !s_alive || !s_classdefs || !s_depth || !s_enter || !s_native || !s_checkpoint ||
        !s_paused)
        return NULL;
    return PyModule_Create(&module_def);
}
