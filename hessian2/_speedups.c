/*
 * Optional compiled hot loop of the hessian2 decoder: Decoder.fill in C.
 *
 * Contract: exactly the behaviour of the pure-Python Decoder.fill in
 * _decoder.py and of the bound-class readers in _bound.py (which stay the
 * reference and the fallback), errors included. fill reads one value per key
 * into target[key]; short ASCII strings, compact ints, doubles, null and
 * booleans are decoded here; instances of already-read class definitions whose
 * Python class fills a plain __dict__ with exactly the wire fields
 * (ClassDef.exact, see _bound.exact_plan) are built, filled and type-checked here
 * too: a field whose value C cannot accept by its node (exact str, float, int,
 * Long, bool, the bound class, a fresh list of those) is handed to the Python
 * _bound.convert_field after all fields are read, as _bound's readers do. Other
 * instances call their cached Python reader; every other tag goes through the
 * Python dispatch table, so the grammar, safety and error rules stay in Python.
 * The instances built here are charged to the decoder's memory allowance
 * (Decoder.charge) in batches of at most CHARGE_BATCH bytes.
 * Between two values the loop calls Decoder.paused once the input read passes
 * Decoder.checkpoint, as the Python loop does (a caller's pause hook).
 * A DecodeError passing through gets the key being read added to its path
 * (DecodeError.within), as in Python. Depth is bounded here exactly as in Python.
 *
 * Not here: any other part of the codec. Built by setup.py as an optional
 * extension (a machine without a compiler installs the pure-Python codec);
 * HESSIAN2_PURE_PYTHON=1 in the environment disables it at import time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

static PyObject *g_table = NULL;      /* the 256-entry dispatch list of _decoder */
static Py_ssize_t g_max_depth = 200;
static PyObject *g_empty = NULL;      /* () for object.__new__ */
static PyObject *g_decode_error = NULL;   /* _errors.DecodeError */
static PyObject *g_convert_field = NULL;  /* _bound.convert_field(dec, converter, value, at, name) */
static PyObject *g_direct_ints = NULL;    /* _scalars.DIRECT_INTS: the ints -16..47 */
static PyObject *g_long_type = NULL;      /* _wrappers.Long */
static PyObject *g_typed_list = NULL;     /* _wrappers.TypedList */
static PyObject *g_zero = NULL, *g_one = NULL;  /* 0.0 and 1.0, shared like the pure path's constants */
static PyObject *s_data, *s_pos, *s_defs, *s_refs, *s_depth, *s_reader, *s_exact, *s_within, *s_spent, *s_allowance;
static PyObject *s_checkpoint, *s_paused, *s_limit_at, *s_limit;

enum { N_ANY = 0, N_STR = 1, N_DOUBLE = 2, N_INT = 3, N_LONG = 4, N_BOOL = 5, N_OBJECT = 6, N_LIST = 7 };

static int
get_ssize(PyObject *obj, PyObject *name, Py_ssize_t *out)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Decoder.checkpoint, read from its slot: state_load runs once per object decoded, and a
 * PyObject_GetAttr there cost the generic decode 6 %. The slot's offset is looked up once per
 * decoder type; a type whose checkpoint is not a plain slot is read by name. */
static PyTypeObject *g_checkpoint_type = NULL;
static Py_ssize_t g_checkpoint_offset = -1;

static int
get_checkpoint(PyObject *dec, Py_ssize_t *out)
{
    PyTypeObject *type = Py_TYPE(dec);
    if (type != g_checkpoint_type) {
        PyObject *descr = _PyType_Lookup(type, s_checkpoint);  /* borrowed */
        g_checkpoint_offset = -1;
        if (descr != NULL && Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
            if (member->type == T_OBJECT_EX)
                g_checkpoint_offset = member->offset;
        }
        Py_INCREF(type);  /* held: a freed type's address could come back with another layout */
        Py_XSETREF(g_checkpoint_type, type);
    }
    if (g_checkpoint_offset < 0)
        return get_ssize(dec, s_checkpoint, out);
    PyObject *v = *(PyObject **)((char *)dec + g_checkpoint_offset);
    if (v == NULL)
        return get_ssize(dec, s_checkpoint, out);  /* unset: the AttributeError */
    *out = PyLong_AsSsize_t(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int
set_ssize(PyObject *obj, PyObject *name, Py_ssize_t value)
{
    PyObject *v = PyLong_FromSsize_t(value);
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttr(obj, name, v);
    Py_DECREF(v);
    return rc;
}

/* Raise the decoder's DecodeError through its own fail() method. */
static void
fail(PyObject *dec, const char *reason, Py_ssize_t offset)
{
    PyObject *r = PyObject_CallMethod(dec, "fail", "sn", reason, offset);
    Py_XDECREF(r);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "Decoder.fail() returned");
}

/* One fill() call: the decoder's buffer and lists, with pos and depth kept here
 * and written back to the Python decoder around every call into Python. */
typedef struct {
    PyObject *dec;
    PyObject *defs;
    PyObject *refs;
    const unsigned char *buf;
    Py_ssize_t end;
    Py_ssize_t pos;
    Py_ssize_t depth;
    Py_ssize_t charged;  /* bytes of instances built here, not yet passed to Decoder.charge */
    Py_ssize_t checkpoint;  /* Decoder.checkpoint: at this input offset Decoder.paused is due */
    PyObject *exact[16];  /* borrowed ClassDef.exact of definitions #0..15, once known (never changes) */
} State;

static int
sync_out(State *st)
{
    return (set_ssize(st->dec, s_pos, st->pos) < 0 || set_ssize(st->dec, s_depth, st->depth) < 0) ? -1 : 0;
}

static int
sync_in(State *st)
{
    return (get_ssize(st->dec, s_pos, &st->pos) < 0 || get_ssize(st->dec, s_depth, &st->depth) < 0) ? -1 : 0;
}

/* The input read passed Decoder.checkpoint, between two values: Decoder.paused (which may
 * block, or raise to end the decode), then take up the decoder's state again. st->checkpoint is
 * read here and when the state is loaded only: a Python reader that paused meanwhile moved it
 * further, so a stale one is early, and Decoder.paused then does nothing. */
static int
reach_checkpoint(State *st)
{
    if (sync_out(st) < 0)
        return -1;
    PyObject *r = PyObject_CallMethodNoArgs(st->dec, s_paused);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return (sync_in(st) < 0 || get_checkpoint(st->dec, &st->checkpoint) < 0) ? -1 : 0;
}

/* Add what this loop has built to Decoder.spent, as Decoder.charge does; past the
 * allowance, charge(0) raises its error. */
static int
flush_charge(State *st)
{
    if (st->charged == 0)
        return 0;
    Py_ssize_t spent, allowance;
    if (get_ssize(st->dec, s_spent, &spent) < 0 || get_ssize(st->dec, s_allowance, &allowance) < 0)
        return -1;
    spent += st->charged;
    st->charged = 0;
    if (set_ssize(st->dec, s_spent, spent) < 0)
        return -1;
    if (spent <= allowance)
        return 0;
    if (sync_out(st) < 0)  /* the error's offset */
        return -1;
    PyObject *r = PyObject_CallMethod(st->dec, "charge", "n", (Py_ssize_t)0);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

#define CHARGE_BATCH (64 * 1024)

static int fill_impl(State *st, PyObject *target, PyObject *keys);
static PyObject *read_value(State *st);

/* A DecodeError passing through gets `key` added to its path (DecodeError.within). */
static void
annotate(PyObject *key)
{
    if (!PyErr_ExceptionMatches(g_decode_error))
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *r = value == NULL ? NULL : PyObject_CallMethodOneArg(value, s_within, key);
    if (r == NULL) {  /* within() itself failed: that error replaces this one */
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    Py_DECREF(r);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    PyErr_Restore(type, value, tb);
}

/* Does C accept `v` as it is (no conversion) for a field or element of a scalar or
 * object node (code, arg)? Lists: accepts_list. */
static inline int
accepts_scalar(int code, PyObject *arg, PyObject *v)
{
    if (code == N_ANY || v == Py_None)
        return 1;
    switch (code) {
    case N_STR:
        return PyUnicode_CheckExact(v);
    case N_DOUBLE:
        return PyFloat_CheckExact(v);
    case N_INT:
        return PyLong_CheckExact(v);
    case N_LONG:
        return (PyObject *)Py_TYPE(v) == g_long_type;
    case N_BOOL:
        return PyBool_Check(v);
    case N_OBJECT:
        return (PyObject *)Py_TYPE(v) == arg;
    default:
        return 0;
    }
}

/* A list field: C accepts a fresh list (or TypedList) whose elements all pass the
 * element node arg = (code, arg). `tag` is the first byte of the value: a list reached
 * by reference ('Q') is left to Python, whose converter remembers what it checked (no
 * walk per reference). */
#define LONG_LIST 65536  /* elements: one C walk of them takes ~0.3 ms */

static int
accepts_list(PyObject *arg, PyObject *v, unsigned int tag)
{
    if (v == Py_None)
        return 1;
    if (tag == 0x51 || !(PyList_CheckExact(v) || (PyObject *)Py_TYPE(v) == g_typed_list))
        return 0;
    int item_code = (int)PyLong_AsLong(PyTuple_GET_ITEM(arg, 0));
    PyObject *item_arg = PyTuple_GET_ITEM(arg, 1);
    if (PyTuple_GET_SIZE(arg) > 2 && PyList_GET_SIZE(v) > PyLong_AsSsize_t(PyTuple_GET_ITEM(arg, 2)))
        return 0;  /* more than MaxItems: the converter refuses it, with its message */
    if (item_code == N_ANY)
        return 1;
    if (PyList_GET_SIZE(v) > LONG_LIST)
        return 0;  /* Python checks it a chunk at a time, pausing between (_fields._convert_items) */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++)
        if (!accepts_scalar(item_code, item_arg, PyList_GET_ITEM(v, i)))
            return 0;
    return 1;
}

/* An instance whose class fills a plain __dict__ with exactly the wire fields
 * (exact = (cls, names, codes, args, converters, cost, limits): per field a node code byte,
 * its argument and its Python converter, the bytes an instance costs, and per field its
 * MaxItems count or None, handed to the list and map readers through the decoder's
 * limit_at/limit, see _bound.exact_plan): built, charged, registered as a
 * reference before its fields, filled in wire order, then each field C did not accept
 * converted by Python in wire order (_bound's readers do the same). The caller counts
 * the depth. */
static PyObject *
read_exact_instance(State *st, PyObject *exact)
{
    PyObject *cls = PyTuple_GET_ITEM(exact, 0), *attrs = PyTuple_GET_ITEM(exact, 1);
    const char *codes = PyBytes_AS_STRING(PyTuple_GET_ITEM(exact, 2));
    PyObject *args = PyTuple_GET_ITEM(exact, 3), *converters = PyTuple_GET_ITEM(exact, 4);
    PyObject *limits = PyTuple_GET_ITEM(exact, 6);
    Py_ssize_t n = PyTuple_GET_SIZE(attrs), at = st->pos, i;
    PyObject *obj = PyBaseObject_Type.tp_new((PyTypeObject *)cls, g_empty, NULL);
    if (obj == NULL)
        return NULL;
    if (PyList_Append(st->refs, obj) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    st->charged += PyLong_AsSsize_t(PyTuple_GET_ITEM(exact, 5));
    if (PyErr_Occurred() || (st->charged >= CHARGE_BATCH && flush_charge(st) < 0)) {
        Py_DECREF(obj);
        return NULL;
    }
    if (n == 0)
        return obj;
    PyObject *dict = PyObject_GenericGetDict(obj, NULL);
    if (dict == NULL) {
        Py_DECREF(obj);
        return NULL;
    }
    unsigned char small[64];
    unsigned char *slow = n <= 64 ? small : PyMem_Calloc((size_t)n, 1);
    int rc = slow == NULL ? -1 : 0, any_slow = 0;
    if (slow == NULL)
        PyErr_NoMemory();
    for (i = 0; rc == 0 && i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(attrs, i);
        unsigned int tag = st->pos < st->end ? st->buf[st->pos] : 0;
        PyObject *most = PyTuple_GET_ITEM(limits, i);
        if (most != Py_None && (set_ssize(st->dec, s_limit_at, st->pos) < 0 ||
                                PyObject_SetAttr(st->dec, s_limit, most) < 0)) {
            rc = -1;
            break;
        }
        PyObject *v = read_value(st);
        if (v == NULL) {
            annotate(name);
            rc = -1;
            break;
        }
        int code = codes[i];
        slow[i] = !(code == N_LIST ? accepts_list(PyTuple_GET_ITEM(args, i), v, tag)
                                   : accepts_scalar(code, PyTuple_GET_ITEM(args, i), v));
        any_slow |= slow[i];
        rc = PyDict_SetItem(dict, name, v);
        Py_DECREF(v);
    }
    for (i = 0; rc == 0 && any_slow && i < n; i++) {
        if (!slow[i])
            continue;
        PyObject *name = PyTuple_GET_ITEM(attrs, i);
        PyObject *v = PyDict_GetItemWithError(dict, name);
        if (v == NULL) {
            rc = -1;
            break;
        }
        Py_INCREF(v);
        PyObject *at_obj = PyLong_FromSsize_t(at), *result = NULL;
        if (at_obj != NULL && sync_out(st) == 0) {
            PyObject *call[5] = {st->dec, PyTuple_GET_ITEM(converters, i), v, at_obj, name};
            result = PyObject_Vectorcall(g_convert_field, call, 5, NULL);
            if (result != NULL && sync_in(st) < 0)
                Py_CLEAR(result);
        }
        Py_XDECREF(at_obj);
        Py_DECREF(v);
        rc = result == NULL ? -1 : PyDict_SetItem(dict, name, result);
        Py_XDECREF(result);
    }
    if (slow != NULL && slow != small)
        PyMem_Free(slow);
    Py_DECREF(dict);
    if (rc < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    return obj;
}

/* An instance of an already-read class definition, or NULL with no error to fall back. */
static PyObject *
read_instance(State *st, unsigned int tag)
{
    Py_ssize_t index = (Py_ssize_t)tag - 0x60;
    PyObject *value = NULL;
    if (index >= PyList_GET_SIZE(st->defs) || st->depth >= g_max_depth)
        return NULL;
    if (st->exact[index] != NULL) {
        st->pos += 1;
        st->depth++;
        value = read_exact_instance(st, st->exact[index]);
        st->depth--;
        return value;
    }
    PyObject *definition = PyList_GET_ITEM(st->defs, index);
    PyObject *exact = PyObject_GetAttr(definition, s_exact);
    if (exact == NULL)
        return NULL;
    if (PyTuple_CheckExact(exact) && PyTuple_GET_SIZE(exact) == 7 && PyType_Check(PyTuple_GET_ITEM(exact, 0))) {
        st->exact[index] = exact;  /* the definition keeps it alive */
        Py_DECREF(exact);
        st->pos += 1;
        st->depth++;
        value = read_exact_instance(st, st->exact[index]);
        st->depth--;
        return value;
    }
    Py_DECREF(exact);
    PyObject *reader = PyObject_GetAttr(definition, s_reader);
    if (reader == NULL)
        return NULL;
    if (reader != Py_None) {
        st->pos += 1;
        st->depth += 1;
        if (sync_out(st) == 0) {
            value = PyObject_CallOneArg(reader, st->dec);
            if (value != NULL && sync_in(st) < 0)
                Py_CLEAR(value);
        }
        st->depth -= 1;
    }
    Py_DECREF(reader);
    return value;
}

/* One value at st->pos, or NULL with an exception set. */
static PyObject *
read_value(State *st)
{
    const unsigned char *buf = st->buf;
    Py_ssize_t pos = st->pos, end = st->end;
    PyObject *value = NULL;
    if (pos >= end) {
        fail(st->dec, "truncated: value expected", pos);
        return NULL;
    }
    unsigned int tag = buf[pos];
    if (tag < 0x20) {
        Py_ssize_t stop = pos + 1 + tag, i;
        if (stop <= end) {
            for (i = pos + 1; i < stop && buf[i] < 0x80; i++)
                ;
            if (i == stop) {
                st->pos = stop;
                return PyUnicode_DecodeASCII((const char *)buf + pos + 1, tag, NULL);
            }
        }
    }
    else if (tag == 0x44) {
        if (pos + 9 <= end) {
            double d = PyFloat_Unpack8((const char *)buf + pos + 1, 0);
            if (d == -1.0 && PyErr_Occurred())
                return NULL;
            st->pos = pos + 9;
            return PyFloat_FromDouble(d);
        }
    }
    else if (tag >= 0x80 && tag <= 0xBF) {
        st->pos = pos + 1;
        return Py_NewRef(PyTuple_GET_ITEM(g_direct_ints, tag - 0x80));
    }
    else if (tag >= 0xC0 && tag <= 0xCF) {
        if (pos + 2 <= end) {
            st->pos = pos + 2;
            return PyLong_FromLong(((long)tag - 0xC8) * 256 + buf[pos + 1]);
        }
    }
    else if (tag == 0x5F) {
        if (pos + 5 <= end) {
            const unsigned char *p = buf + pos + 1;
            int32_t mills = (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                                      ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
            st->pos = pos + 5;
            return PyFloat_FromDouble(0.001 * mills);
        }
    }
    else if (tag == 0x4E || tag == 0x54 || tag == 0x46) {
        st->pos = pos + 1;
        return Py_NewRef(tag == 0x4E ? Py_None : tag == 0x54 ? Py_True : Py_False);
    }
    else if (tag == 0x5B || tag == 0x5C) {
        st->pos = pos + 1;
        return Py_NewRef(tag == 0x5B ? g_zero : g_one);
    }
    else if (tag >= 0x60 && tag <= 0x6F) {
        value = read_instance(st, tag);
        if (value != NULL || PyErr_Occurred())
            return value;
        st->pos = pos;
    }
    /* everything else: the Python reader of this tag */
    st->pos = pos + 1;
    if (sync_out(st) < 0)
        return NULL;
    PyObject *tag_obj = PyLong_FromLong((long)tag);
    if (tag_obj == NULL)
        return NULL;
    value = PyObject_CallFunctionObjArgs(PyList_GET_ITEM(g_table, tag), st->dec, tag_obj, NULL);
    Py_DECREF(tag_obj);
    if (value != NULL && sync_in(st) < 0)
        Py_CLEAR(value);
    return value;
}

static int
store(PyObject *target, PyObject *key, PyObject *value)
{
    int rc = PyDict_CheckExact(target) ? PyDict_SetItem(target, key, value) : PyObject_SetItem(target, key, value);
    Py_DECREF(value);
    return rc;
}

static int
fill_impl(State *st, PyObject *target, PyObject *keys)
{
    if (PyTuple_CheckExact(keys)) {
        Py_ssize_t n = PyTuple_GET_SIZE(keys);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (st->pos >= st->checkpoint && reach_checkpoint(st) < 0)
                return -1;
            PyObject *value = read_value(st);
            if (value == NULL) {
                annotate(PyTuple_GET_ITEM(keys, i));
                return -1;
            }
            if (store(target, PyTuple_GET_ITEM(keys, i), value) < 0)
                return -1;
        }
        return 0;
    }
    PyObject *iter = PyObject_GetIter(keys), *key;
    if (iter == NULL)
        return -1;
    while ((key = PyIter_Next(iter)) != NULL) {
        PyObject *value = st->pos >= st->checkpoint && reach_checkpoint(st) < 0 ? NULL : read_value(st);
        if (value == NULL)
            annotate(key);
        int rc = value == NULL ? -1 : store(target, key, value);
        Py_DECREF(key);
        if (rc < 0) {
            Py_DECREF(iter);
            return -1;
        }
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : 0;
}

/* Load the decoder's buffer, lists, pos and depth into st; *data gets a new reference. */
static int
state_load(State *st, PyObject *dec, PyObject **data)
{
    memset(st, 0, sizeof(*st));
    st->dec = dec;
    *data = PyObject_GetAttr(dec, s_data);
    if (*data == NULL)
        return -1;
    st->defs = PyObject_GetAttr(dec, s_defs);
    st->refs = PyObject_GetAttr(dec, s_refs);
    if (st->defs == NULL || st->refs == NULL)
        return -1;
    if (!PyBytes_Check(*data) || !PyList_Check(st->defs) || !PyList_Check(st->refs)) {
        PyErr_SetString(PyExc_TypeError, "decoder data must be bytes, defs and refs lists");
        return -1;
    }
    st->buf = (const unsigned char *)PyBytes_AS_STRING(*data);
    st->end = PyBytes_GET_SIZE(*data);
    return (sync_in(st) < 0 || get_checkpoint(dec, &st->checkpoint) < 0) ? -1 : 0;
}

static void
state_release(State *st, PyObject *data)
{
    Py_XDECREF(st->defs);
    Py_XDECREF(st->refs);
    Py_XDECREF(data);
}

static PyObject *
fill(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "fill(decoder, target, keys)");
        return NULL;
    }
    State st;
    PyObject *data = NULL, *result = NULL;
    if (state_load(&st, args[0], &data) == 0 && fill_impl(&st, args[1], args[2]) == 0 && flush_charge(&st) == 0 &&
        sync_out(&st) == 0)
        result = Py_NewRef(Py_None);
    state_release(&st, data);
    return result;
}

/* read_exact(decoder, exact): one instance of an exact definition, for the Python readers
 * (a top-level object; the caller has counted its depth). */
static PyObject *
read_exact(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[1]) || PyTuple_GET_SIZE(args[1]) != 7) {
        PyErr_SetString(PyExc_TypeError, "read_exact(decoder, (cls, names, codes, args, converters, cost, limits))");
        return NULL;
    }
    State st;
    PyObject *data = NULL, *result = NULL;
    if (state_load(&st, args[0], &data) == 0) {
        result = read_exact_instance(&st, args[1]);
        if (result != NULL && (flush_charge(&st) < 0 || sync_out(&st) < 0))
            Py_CLEAR(result);
    }
    state_release(&st, data);
    return result;
}

static PyMethodDef fill_def = {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL,
                               "fill(decoder, target, keys): Decoder.fill in C"};

/* configure(table, max_depth, DecodeError, convert_field, direct_ints, Long, TypedList)
 * -> a method object to install as Decoder.fill */
static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *table, *decode_error, *convert_field, *direct_ints, *long_type, *typed_list;
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "O!nOOO!OO", &PyList_Type, &table, &max_depth, &decode_error, &convert_field,
                          &PyTuple_Type, &direct_ints, &long_type, &typed_list))
        return NULL;
    if (PyList_GET_SIZE(table) != 256 || PyTuple_GET_SIZE(direct_ints) != 64) {
        PyErr_SetString(PyExc_ValueError, "256 table entries and 64 direct ints expected");
        return NULL;
    }
    Py_XSETREF(g_table, Py_NewRef(table));
    Py_XSETREF(g_decode_error, Py_NewRef(decode_error));
    Py_XSETREF(g_convert_field, Py_NewRef(convert_field));
    Py_XSETREF(g_direct_ints, Py_NewRef(direct_ints));
    Py_XSETREF(g_long_type, Py_NewRef(long_type));
    Py_XSETREF(g_typed_list, Py_NewRef(typed_list));
    g_max_depth = max_depth;
    PyObject *func = PyCFunction_New(&fill_def, NULL);
    if (func == NULL)
        return NULL;
    PyObject *method = PyInstanceMethod_New(func);
    Py_DECREF(func);
    return method;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(table, max_depth, DecodeError, convert_field, direct_ints, Long, TypedList) -> Decoder.fill method"},
    {"read_exact", (PyCFunction)(void (*)(void))read_exact, METH_FASTCALL,
     "read_exact(decoder, (cls, names, codes, args, converters)): one instance of an exact definition"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "hessian2._speedups", "Compiled Decoder.fill (optional).", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    s_data = PyUnicode_InternFromString("data");
    s_pos = PyUnicode_InternFromString("pos");
    s_defs = PyUnicode_InternFromString("defs");
    s_depth = PyUnicode_InternFromString("depth");
    s_reader = PyUnicode_InternFromString("reader");
    s_refs = PyUnicode_InternFromString("refs");
    s_exact = PyUnicode_InternFromString("exact");
    s_within = PyUnicode_InternFromString("within");
    s_spent = PyUnicode_InternFromString("spent");
    s_allowance = PyUnicode_InternFromString("allowance");
    s_checkpoint = PyUnicode_InternFromString("checkpoint");
    s_paused = PyUnicode_InternFromString("paused");
    s_limit_at = PyUnicode_InternFromString("limit_at");
    s_limit = PyUnicode_InternFromString("limit");
    g_empty = PyTuple_New(0);
    g_zero = PyFloat_FromDouble(0.0);
    g_one = PyFloat_FromDouble(1.0);
    if (!s_data || !s_pos || !s_defs || !s_depth || !s_reader || !s_refs || !s_exact || !s_within || !s_spent ||
        !s_allowance || !s_checkpoint || !s_paused || !s_limit_at || !s_limit || !g_empty || !g_zero || !g_one)
        return NULL;
    return PyModule_Create(&module_def);
}
