/*
 * Optional compiled hot loop of the hessian2 decoder: Decoder.fill in C.
 *
 * Contract: exactly the behaviour of the pure-Python Decoder.fill in
 * _decoder.py (which stays the reference and the fallback). It reads one value
 * per key into target[key]; short ASCII strings, compact ints, doubles, null
 * and booleans are decoded here; instances of already-read class definitions
 * whose Python class fills a plain __dict__ exactly (ClassDef.exact) are built
 * and filled here too, others call their cached Python reader; every other tag
 * goes through the Python dispatch table, so the grammar, safety and error
 * rules stay in Python. Depth is bounded here exactly as in Python.
 *
 * Not here: any other part of the codec. Built by setup.py as an optional
 * extension (a machine without a compiler installs the pure-Python codec);
 * HESSIAN2_PURE_PYTHON=1 in the environment disables it at import time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *g_table = NULL;      /* the 256-entry dispatch list of _decoder */
static Py_ssize_t g_max_depth = 200;
static PyObject *g_empty = NULL;      /* () for object.__new__ */
static PyObject *s_data, *s_pos, *s_defs, *s_refs, *s_depth, *s_reader, *s_exact;

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

static int fill_impl(State *st, PyObject *target, PyObject *keys);

/* An instance whose class fills a plain __dict__ with exactly the wire fields:
 * built and filled here, registered as a reference before its fields. */
static PyObject *
read_exact_instance(State *st, PyObject *exact)
{
    PyObject *cls = PyTuple_GET_ITEM(exact, 0), *attrs = PyTuple_GET_ITEM(exact, 1);
    PyObject *obj = PyBaseObject_Type.tp_new((PyTypeObject *)cls, g_empty, NULL);
    if (obj == NULL)
        return NULL;
    PyObject *dict = NULL;
    if (PyList_Append(st->refs, obj) < 0 || (dict = PyObject_GenericGetDict(obj, NULL)) == NULL) {
        Py_DECREF(obj);
        return NULL;
    }
    st->depth++;
    int rc = fill_impl(st, dict, attrs);
    st->depth--;
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
    if (index >= PyList_GET_SIZE(st->defs) || st->depth >= g_max_depth)
        return NULL;
    if (st->exact[index] != NULL) {
        st->pos += 1;
        return read_exact_instance(st, st->exact[index]);
    }
    PyObject *definition = PyList_GET_ITEM(st->defs, index);
    PyObject *exact = PyObject_GetAttr(definition, s_exact);
    if (exact == NULL)
        return NULL;
    PyObject *value = NULL;
    if (PyTuple_CheckExact(exact) && PyTuple_GET_SIZE(exact) == 2 && PyType_Check(PyTuple_GET_ITEM(exact, 0))) {
        st->exact[index] = exact;  /* the definition keeps it alive */
        Py_DECREF(exact);
        st->pos += 1;
        return read_exact_instance(st, st->exact[index]);
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
        return PyLong_FromLong((long)tag - 0x90);
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
        return PyFloat_FromDouble(tag == 0x5B ? 0.0 : 1.0);
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
            PyObject *value = read_value(st);
            if (value == NULL || store(target, PyTuple_GET_ITEM(keys, i), value) < 0)
                return -1;
        }
        return 0;
    }
    PyObject *iter = PyObject_GetIter(keys), *key;
    if (iter == NULL)
        return -1;
    while ((key = PyIter_Next(iter)) != NULL) {
        PyObject *value = read_value(st);
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

static PyObject *
fill(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "fill(decoder, target, keys)");
        return NULL;
    }
    State st = {args[0], NULL, NULL, NULL, 0, 0, 0, {NULL}};
    PyObject *data = PyObject_GetAttr(st.dec, s_data);
    PyObject *result = NULL;
    if (data == NULL)
        return NULL;
    st.defs = PyObject_GetAttr(st.dec, s_defs);
    st.refs = PyObject_GetAttr(st.dec, s_refs);
    if (st.defs == NULL || st.refs == NULL)
        goto done;
    if (!PyBytes_Check(data) || !PyList_Check(st.defs) || !PyList_Check(st.refs)) {
        PyErr_SetString(PyExc_TypeError, "decoder data must be bytes, defs and refs lists");
        goto done;
    }
    st.buf = (const unsigned char *)PyBytes_AS_STRING(data);
    st.end = PyBytes_GET_SIZE(data);
    if (sync_in(&st) < 0)
        goto done;
    int rc = fill_impl(&st, args[1], args[2]);
    if (rc == 0 && sync_out(&st) == 0)
        result = Py_NewRef(Py_None);
done:
    Py_XDECREF(st.defs);
    Py_XDECREF(st.refs);
    Py_DECREF(data);
    return result;
}

static PyMethodDef fill_def = {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL,
                               "fill(decoder, target, keys): Decoder.fill in C"};

/* configure(table, max_depth) -> a method object to install as Decoder.fill */
static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *table;
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &table, &max_depth))
        return NULL;
    if (PyList_GET_SIZE(table) != 256) {
        PyErr_SetString(PyExc_ValueError, "the dispatch table must have 256 entries");
        return NULL;
    }
    Py_XSETREF(g_table, Py_NewRef(table));
    g_max_depth = max_depth;
    PyObject *func = PyCFunction_New(&fill_def, NULL);
    if (func == NULL)
        return NULL;
    PyObject *method = PyInstanceMethod_New(func);
    Py_DECREF(func);
    return method;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS, "configure(table, max_depth) -> Decoder.fill method"},
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
    g_empty = PyTuple_New(0);
    if (!s_data || !s_pos || !s_defs || !s_depth || !s_reader || !s_refs || !s_exact || !g_empty)
        return NULL;
    return PyModule_Create(&module_def);
}
