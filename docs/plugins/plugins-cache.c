/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writes the element reference of a plugin in the format of GStreamer's
 * plugin cache (docs/plugins/gst_plugins_cache.json in every GStreamer
 * module, what its hotdoc site is built from), read from the registry:
 * every element with its metadata, type hierarchy, interfaces, properties
 * (type, range, default, flags), signals and pad templates. GStreamer's own
 * scanner and hotdoc are not packaged in Debian 12, hence this tool.
 *
 * Beyond GStreamer's fields, each element has "doc": the text of its
 * SECTION:element-<name> comment, and each signal "doc" and named,
 * documented arguments, from its "Type::signal:" comment, read from the
 * source files given (GStreamer's scanner names the arguments arg0,
 * arg1...; so does this tool for a signal without a complete comment).
 *
 *   plugins-cache OUTPUT.json PLUGIN.so [SOURCE.c...]
 *
 * Keys are sorted and the output pretty-printed (4 spaces) as in
 * GStreamer's committed caches, so a change shows as a small diff.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <locale.h>
#include <string.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

/* ------------------------------------------------------------------------ */
/* JSON helpers: objects built with sorted keys */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

/* a copy of @obj whose members are in key order, recursively */
static JsonNode *
sorted_node (JsonNode * node)
{
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *obj = json_node_get_object (node), *out = json_object_new ();
    GList *members = json_object_get_members (obj), *l;
    GPtrArray *names = g_ptr_array_new ();
    JsonNode *res;
    guint i;

    for (l = members; l; l = l->next)
      g_ptr_array_add (names, l->data);
    g_ptr_array_sort (names, compare_names);
    for (i = 0; i < names->len; i++) {
      const gchar *name = g_ptr_array_index (names, i);
      json_object_set_member (out, name,
          sorted_node (json_object_get_member (obj, name)));
    }
    g_ptr_array_unref (names);
    g_list_free (members);
    res = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (res, out);
    return res;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *arr = json_node_get_array (node), *out = json_array_new ();
    JsonNode *res;
    guint i;

    for (i = 0; i < json_array_get_length (arr); i++)
      json_array_add_element (out,
          sorted_node (json_array_get_element (arr, i)));
    res = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (res, out);
    return res;
  }
  return json_node_copy (node);
}

static void
set_string (JsonObject * obj, const gchar * key, const gchar * value)
{
  json_object_set_string_member (obj, key, value ? value : "NULL");
}

static void
set_take_string (JsonObject * obj, const gchar * key, gchar * value)
{
  set_string (obj, key, value);
  g_free (value);
}

/* ------------------------------------------------------------------------ */
/* properties */

/* the default, minimum and maximum as the cache writes them: strings */
static void
add_value_range (JsonObject * p, GParamSpec * spec, const GValue * v)
{
  GType t = G_PARAM_SPEC_VALUE_TYPE (spec);

#define RANGE(PSPEC_CAST, FMT, GET) G_STMT_START { \
    set_take_string (p, "default", g_strdup_printf (FMT, GET (v))); \
    set_take_string (p, "min", g_strdup_printf (FMT, PSPEC_CAST (spec)->minimum)); \
    set_take_string (p, "max", g_strdup_printf (FMT, PSPEC_CAST (spec)->maximum)); \
  } G_STMT_END

  if (t == G_TYPE_STRING) {
    set_string (p, "default", g_value_get_string (v));
  } else if (t == G_TYPE_BOOLEAN) {
    set_string (p, "default", g_value_get_boolean (v) ? "true" : "false");
  } else if (t == G_TYPE_INT) {
    RANGE (G_PARAM_SPEC_INT, "%d", g_value_get_int);
  } else if (t == G_TYPE_UINT) {
    RANGE (G_PARAM_SPEC_UINT, "%u", g_value_get_uint);
  } else if (t == G_TYPE_INT64) {
    RANGE (G_PARAM_SPEC_INT64, "%" G_GINT64_FORMAT, g_value_get_int64);
  } else if (t == G_TYPE_UINT64) {
    RANGE (G_PARAM_SPEC_UINT64, "%" G_GUINT64_FORMAT, g_value_get_uint64);
  } else if (t == G_TYPE_DOUBLE) {
    RANGE (G_PARAM_SPEC_DOUBLE, "%g", g_value_get_double);
  } else if (t == G_TYPE_FLOAT) {
    RANGE (G_PARAM_SPEC_FLOAT, "%g", g_value_get_float);
  } else if (t == GST_TYPE_CAPS) {
    const GstCaps *caps = gst_value_get_caps (v);
    if (caps)
      set_take_string (p, "default", gst_caps_to_string (caps));
  } else if (t == GST_TYPE_STRUCTURE) {
    const GstStructure *s = gst_value_get_structure (v);
    if (s)
      set_take_string (p, "default", gst_structure_to_string (s));
  } else if (G_TYPE_IS_ENUM (t)) {
    GEnumValue *e = g_enum_get_value (g_type_class_peek (t),
        g_value_get_enum (v));
    set_take_string (p, "default", g_strdup_printf ("%s (%d)",
            e ? e->value_nick : "", g_value_get_enum (v)));
  } else if (G_TYPE_IS_FLAGS (t)) {
    set_take_string (p, "default", g_flags_to_string (t,
            g_value_get_flags (v)));
  }
#undef RANGE
}

static JsonNode *
properties_of (GObject * obj, GType type)
{
  JsonObject *props = json_object_new ();
  JsonNode *node;
  GParamSpec **specs;
  guint i, n;

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (obj), &n);
  for (i = 0; i < n; i++) {
    GParamSpec *spec = specs[i];
    JsonObject *p;
    GValue v = G_VALUE_INIT;
    const gchar *mutable = "null";

    if (spec->owner_type != type)
      continue;
    p = json_object_new ();
    g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (spec));
    if (spec->flags & G_PARAM_READABLE)
      g_object_get_property (obj, spec->name, &v);
    else
      g_param_value_set_default (spec, &v);
    if (spec->flags & GST_PARAM_MUTABLE_PLAYING)
      mutable = "playing";
    else if (spec->flags & GST_PARAM_MUTABLE_PAUSED)
      mutable = "paused";
    else if (spec->flags & GST_PARAM_MUTABLE_READY)
      mutable = "ready";
    set_string (p, "blurb", g_param_spec_get_blurb (spec));
    json_object_set_boolean_member (p, "conditionally-available",
        !!(spec->flags & GST_PARAM_CONDITIONALLY_AVAILABLE));
    json_object_set_boolean_member (p, "construct",
        !!(spec->flags & G_PARAM_CONSTRUCT));
    json_object_set_boolean_member (p, "construct-only",
        !!(spec->flags & G_PARAM_CONSTRUCT_ONLY));
    json_object_set_boolean_member (p, "controllable",
        !!(spec->flags & GST_PARAM_CONTROLLABLE));
    set_string (p, "mutable", mutable);
    json_object_set_boolean_member (p, "readable",
        !!(spec->flags & G_PARAM_READABLE));
    set_string (p, "type", g_type_name (G_PARAM_SPEC_VALUE_TYPE (spec)));
    json_object_set_boolean_member (p, "writable",
        !!(spec->flags & G_PARAM_WRITABLE));
    add_value_range (p, spec, &v);
    g_value_unset (&v);
    json_object_set_object_member (props, spec->name, p);
  }
  g_free (specs);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, props);
  return node;
}

/* ------------------------------------------------------------------------ */
/* signal documentation: the "Type::signal:" comment blocks of the sources */

typedef struct
{
  GPtrArray *params;            /* names, the instance first */
  GPtrArray *param_docs;
  gchar *doc;
} SignalDoc;

static void
signal_doc_free (SignalDoc * d)
{
  if (!d)
    return;
  g_ptr_array_unref (d->params);
  g_ptr_array_unref (d->param_docs);
  g_free (d->doc);
  g_free (d);
}

/* the comment lines of a doc block starting at @p, "* " stripped, up to
 * the end of the comment */
static gchar **
comment_lines (const gchar * p)
{
  const gchar *end = strstr (p, "*/");
  gchar *block = end ? g_strndup (p, end - p) : g_strdup (p);
  gchar **lines = g_strsplit (block, "\n", -1), **l;

  for (l = lines; *l; l++) {
    gchar *t = *l, *out;
    while (*t == ' ')
      t++;
    if (*t == '*')
      t++;
    if (*t == ' ')
      t++;
    out = g_strdup (t);
    g_free (*l);
    *l = out;
  }
  g_free (block);
  return lines;
}

static SignalDoc *
signal_doc (const gchar * type_name, const gchar * signal, gchar ** sources)
{
  gchar *marker = g_strdup_printf ("* %s::%s:\n", type_name, signal);
  SignalDoc *d = NULL;
  gchar **src;

  for (src = sources; *src && !d; src++) {
    gchar *text = NULL, *at, **lines, **l;
    GString *doc;
    gboolean in_params = TRUE;

    if (!g_file_get_contents (*src, &text, NULL, NULL))
      g_error ("cannot read %s", *src);
    at = strstr (text, marker);
    if (!at) {
      g_free (text);
      continue;
    }
    d = g_new0 (SignalDoc, 1);
    d->params = g_ptr_array_new_with_free_func (g_free);
    d->param_docs = g_ptr_array_new_with_free_func (g_free);
    doc = g_string_new (NULL);
    lines = comment_lines (at + strlen (marker));
    for (l = lines; *l; l++) {
      const gchar *line = *l;
      if (in_params && line[0] == '@') {
        const gchar *colon = strchr (line, ':');
        if (colon) {
          g_ptr_array_add (d->params, g_strndup (line + 1, colon - line - 1));
          g_ptr_array_add (d->param_docs, g_strdup (g_strstrip ((gchar *)
                      colon + 1)));
        }
        continue;
      }
      if (in_params && line[0] == ' ' && d->param_docs->len) {
        /* a parameter's description goes on */
        gchar *prev = g_ptr_array_index (d->param_docs,
            d->param_docs->len - 1);
        gchar *more = g_strdup_printf ("%s %s", prev, g_strstrip ((gchar *)
                line));
        g_free (prev);
        d->param_docs->pdata[d->param_docs->len - 1] = more;
        continue;
      }
      in_params = FALSE;
      g_string_append_printf (doc, "%s\n", line);
    }
    g_strfreev (lines);
    d->doc = g_strstrip (g_string_free (doc, FALSE));
    g_free (text);
  }
  g_free (marker);
  return d;
}

/* ------------------------------------------------------------------------ */
/* signals */

static JsonNode *
signals_of (GType type, gchar ** sources)
{
  JsonObject *sigs = json_object_new ();
  JsonNode *node;
  guint *ids, n, i, j;

  ids = g_signal_list_ids (type, &n);
  for (i = 0; i < n; i++) {
    GSignalQuery q;
    JsonObject *s = json_object_new ();
    JsonArray *args = json_array_new ();
    SignalDoc *sd;
    gboolean named;

    g_signal_query (ids[i], &q);
    sd = signal_doc (g_type_name (type), q.signal_name, sources);
    /* named as the documentation names them (the instance is its first
     * @name), else arg0, arg1... as GStreamer's scanner names them */
    named = sd && sd->params->len == q.n_params + 1;
    for (j = 0; j < q.n_params; j++) {
      JsonObject *a = json_object_new ();
      if (named) {
        set_string (a, "name", g_ptr_array_index (sd->params, j + 1));
        set_string (a, "doc", g_ptr_array_index (sd->param_docs, j + 1));
      } else {
        set_take_string (a, "name", g_strdup_printf ("arg%u", j));
      }
      set_string (a, "type",
          g_type_name (q.param_types[j] & ~G_SIGNAL_TYPE_STATIC_SCOPE));
      json_array_add_object_element (args, a);
    }
    json_object_set_array_member (s, "args", args);
    if (sd && sd->doc && *sd->doc)
      set_string (s, "doc", sd->doc);
    signal_doc_free (sd);
    set_string (s, "return-type", g_type_name (q.return_type));
    if (q.signal_flags & G_SIGNAL_RUN_FIRST)
      set_string (s, "when", "first");
    else if (q.signal_flags & G_SIGNAL_RUN_LAST)
      set_string (s, "when", "last");
    else if (q.signal_flags & G_SIGNAL_RUN_CLEANUP)
      set_string (s, "when", "cleanup");
    if (q.signal_flags & G_SIGNAL_ACTION)
      json_object_set_boolean_member (s, "action", TRUE);
    if (q.signal_flags & G_SIGNAL_DETAILED)
      json_object_set_boolean_member (s, "detailed", TRUE);
    if (q.signal_flags & G_SIGNAL_NO_RECURSE)
      json_object_set_boolean_member (s, "no-recurse", TRUE);
    if (q.signal_flags & G_SIGNAL_NO_HOOKS)
      json_object_set_boolean_member (s, "no-hooks", TRUE);
    json_object_set_object_member (sigs, q.signal_name, s);
  }
  g_free (ids);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, sigs);
  return node;
}

/* ------------------------------------------------------------------------ */
/* pad templates */

/* caps as the cache writes them: one structure per block, "name:" then a
 * field per line */
static gchar *
caps_text (GstCaps * caps)
{
  GString *out;
  guint i, f;

  if (gst_caps_is_any (caps))
    return g_strdup ("ANY");
  if (gst_caps_is_empty (caps))
    return g_strdup ("EMPTY");
  out = g_string_new (NULL);
  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_caps_get_structure (caps, i);
    GstCapsFeatures *feat = gst_caps_get_features (caps, i);

    if (i)
      g_string_append_c (out, '\n');
    g_string_append (out, gst_structure_get_name (s));
    if (feat && (gst_caps_features_is_any (feat)
            || !gst_caps_features_is_equal (feat,
                GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))) {
      gchar *fs = gst_caps_features_to_string (feat);
      g_string_append_printf (out, "(%s)", fs);
      g_free (fs);
    }
    g_string_append (out, ":\n");
    for (f = 0; f < (guint) gst_structure_n_fields (s); f++) {
      const gchar *name = gst_structure_nth_field_name (s, f);
      gchar *val = gst_value_serialize (gst_structure_get_value (s, name));
      g_string_append_printf (out, "%15s: %s\n", name, val);
      g_free (val);
    }
  }
  return g_string_free (out, FALSE);
}

static JsonNode *
pad_templates_of (GstElement * element, GstElementFactory * factory)
{
  JsonObject *templs = json_object_new ();
  JsonNode *node;
  const GList *l;

  for (l = gst_element_factory_get_static_pad_templates (factory); l;
      l = l->next) {
    GstStaticPadTemplate *st = l->data;
    GstPadTemplate *t =
        gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (element),
        st->name_template);
    GstCaps *caps = gst_pad_template_get_documentation_caps (t);
    JsonObject *o = json_object_new ();
    static const gchar *presence[] = { "always", "sometimes", "request" };

    set_take_string (o, "caps", caps_text (caps));
    gst_caps_unref (caps);
    set_string (o, "direction", st->direction == GST_PAD_SRC ? "src" :
        st->direction == GST_PAD_SINK ? "sink" : "unknown");
    set_string (o, "presence", presence[st->presence]);
    if (GST_PAD_TEMPLATE_GTYPE (t) != G_TYPE_NONE &&
        GST_PAD_TEMPLATE_GTYPE (t) != GST_TYPE_PAD)
      set_string (o, "type", g_type_name (GST_PAD_TEMPLATE_GTYPE (t)));
    json_object_set_object_member (templs, st->name_template, o);
  }
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, templs);
  return node;
}

/* ------------------------------------------------------------------------ */
/* SECTION:element-<name> text from the sources */

static gchar *
section_text (const gchar * name, gchar ** sources)
{
  gchar *marker = g_strdup_printf (" * SECTION:element-%s\n", name);
  gchar **src;
  gchar *res = NULL;

  for (src = sources; *src && !res; src++) {
    gchar *text = NULL, *start, *end;
    GString *out;
    gchar **lines, **line;

    if (!g_file_get_contents (*src, &text, NULL, NULL))
      g_error ("cannot read %s", *src);
    start = strstr (text, marker);
    end = start ? strstr (start, "*/") : NULL;
    if (start && end) {
      *end = '\0';
      out = g_string_new (NULL);
      lines = g_strsplit (start + strlen (marker), "\n", -1);
      for (line = lines; *line; line++) {
        const gchar *l = *line;
        while (*l == ' ')
          l++;
        if (*l == '*')
          l++;
        if (*l == ' ')
          l++;
        g_string_append_printf (out, "%s\n", l);
      }
      g_strfreev (lines);
      res = g_strstrip (g_string_free (out, FALSE));
    }
    g_free (text);
  }
  g_free (marker);
  return res;
}

/* ------------------------------------------------------------------------ */

static const gchar *
rank_name (guint rank)
{
  switch (rank) {
    case GST_RANK_NONE:
      return "none";
    case GST_RANK_MARGINAL:
      return "marginal";
    case GST_RANK_SECONDARY:
      return "secondary";
    case GST_RANK_PRIMARY:
      return "primary";
    default:
      return "other";
  }
}

static JsonObject *
element_entry (GstElementFactory * factory, gchar ** sources)
{
  GstElement *element = gst_element_factory_create (factory, NULL);
  GType type = G_OBJECT_TYPE (element), t;
  JsonObject *e = json_object_new ();
  JsonArray *hier = json_array_new ();
  gchar **keys, **k, *doc;
  GType *ifaces;
  guint n_ifaces, i;

  keys = gst_element_factory_get_metadata_keys (factory);
  for (k = keys; k && *k; k++)
    set_string (e, *k, gst_element_factory_get_metadata (factory, *k));
  g_strfreev (keys);
  set_string (e, "rank",
      rank_name (gst_plugin_feature_get_rank (GST_PLUGIN_FEATURE (factory))));
  for (t = type; t; t = g_type_parent (t))
    json_array_add_string_element (hier, g_type_name (t));
  json_object_set_array_member (e, "hierarchy", hier);
  ifaces = g_type_interfaces (type, &n_ifaces);
  if (n_ifaces) {
    JsonArray *a = json_array_new ();
    for (i = 0; i < n_ifaces; i++)
      json_array_add_string_element (a, g_type_name (ifaces[i]));
    json_object_set_array_member (e, "interfaces", a);
  }
  g_free (ifaces);
  json_object_set_member (e, "properties", properties_of (G_OBJECT (element),
          type));
  json_object_set_member (e, "signals", signals_of (type, sources));
  json_object_set_member (e, "pad-templates", pad_templates_of (element,
          factory));
  doc = section_text (GST_OBJECT_NAME (factory), sources);
  if (doc)
    set_take_string (e, "doc", doc);
  gst_object_unref (element);
  return e;
}

int
main (int argc, char **argv)
{
  GstPlugin *plugin;
  GError *err = NULL;
  GList *features, *l;
  JsonObject *root, *entry, *elements;
  JsonNode *node, *sorted;
  JsonGenerator *gen;
  gchar *base, *dot, *text;

  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  if (argc < 3) {
    g_printerr ("usage: %s OUTPUT.json PLUGIN.so [SOURCE.c...]\n", argv[0]);
    return 2;
  }
  gst_init (NULL, NULL);
  plugin = gst_plugin_load_file (argv[2], &err);
  if (!plugin) {
    g_printerr ("%s: %s\n", argv[2], err->message);
    return 1;
  }

  entry = json_object_new ();
  set_string (entry, "description", gst_plugin_get_description (plugin));
  base = g_path_get_basename (argv[2]);
  if ((dot = strchr (base, '.')))
    *dot = '\0';
  set_string (entry, "filename", g_str_has_prefix (base, "lib") ? base + 3 :
      base);
  g_free (base);
  set_string (entry, "license", gst_plugin_get_license (plugin));
  set_string (entry, "package", gst_plugin_get_package (plugin));
  set_string (entry, "source", gst_plugin_get_source (plugin));
  set_string (entry, "url", gst_plugin_get_origin (plugin));
  json_object_set_object_member (entry, "tracers", json_object_new ());
  json_object_set_object_member (entry, "other-types", json_object_new ());

  elements = json_object_new ();
  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      gst_plugin_get_name (plugin));
  for (l = features; l; l = l->next) {
    GstPluginFeature *f = l->data;
    if (GST_IS_ELEMENT_FACTORY (f))
      json_object_set_object_member (elements, GST_OBJECT_NAME (f),
          element_entry (GST_ELEMENT_FACTORY (f), argv + 3));
  }
  gst_plugin_feature_list_free (features);
  json_object_set_object_member (entry, "elements", elements);

  root = json_object_new ();
  json_object_set_object_member (root, gst_plugin_get_name (plugin), entry);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  sorted = sorted_node (node);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 4);
  json_generator_set_root (gen, sorted);
  text = json_generator_to_data (gen, NULL);
  if (!g_file_set_contents (argv[1], text, -1, &err)) {
    g_printerr ("%s: %s\n", argv[1], err->message);
    return 1;
  }
  g_free (text);
  g_object_unref (gen);
  json_node_unref (sorted);
  json_node_unref (node);
  gst_object_unref (plugin);
  return 0;
}
