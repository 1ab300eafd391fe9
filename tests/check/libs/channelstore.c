/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The channel store used in-process, without HTTP: the API that
 * trickleserver's pads and in-process readers and writers use.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/trickle/trickle.h>

static void
count_wake (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

static GBytes *
bytes_of (const gchar * s)
{
  return g_bytes_new (s, strlen (s));
}

/* reads the whole segment so far into a string */
static gchar *
read_all (GstTrickleSegment * seg, GstTrickleSegmentState * state)
{
  GBytes *pages[16];
  GString *s = g_string_new (NULL);
  guint n, i, first = 0;

  do {
    n = gst_trickle_segment_peek_pages (seg, first, pages, 16, state);
    for (i = 0; i < n; i++) {
      gsize len;
      const gchar *d = g_bytes_get_data (pages[i], &len);
      g_string_append_len (s, d, len);
      g_bytes_unref (pages[i]);
    }
    first += n;
  } while (n > 0);
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_write_read_in_process)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  GstTrickleSegment *wseg, *rseg;
  GstTrickleReadResult result;
  GstTrickleSegmentState state;
  GstTrickleWaiter waiter = { count_wake, NULL };
  gint wakes = 0;
  gint64 latest;
  GBytes *b;
  gchar *data;

  waiter.user_data = &wakes;
  ch = gst_trickle_channel_store_create (store, "in", "video/MP2T", NULL);
  fail_unless (ch != NULL);

  /* a reader waiting on the live edge before anything is written */
  rseg = gst_trickle_channel_open_read (ch, GST_TRICKLE_SEQ_NEXT, &result,
      &latest);
  fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
  fail_unless_equals_int (latest, 0);
  fail_unless_equals_int (gst_trickle_segment_get_seq (rseg), 0);
  gst_trickle_segment_add_waiter (rseg, &waiter);

  wseg = gst_trickle_channel_open_write (ch, GST_TRICKLE_SEQ_NEXT, FALSE);
  fail_unless (wseg == rseg);   /* the reader's pre-created segment */
  b = bytes_of ("abc");
  fail_unless (gst_trickle_channel_append (ch, wseg, b));
  g_bytes_unref (b);
  fail_unless (g_atomic_int_get (&wakes) >= 1);
  fail_unless_equals_int (gst_trickle_channel_get_next_seq (ch), 1);

  data = read_all (rseg, &state);
  fail_unless_equals_string (data, "abc");
  fail_unless_equals_int (state, GST_TRICKLE_SEGMENT_OPEN);
  g_free (data);

  b = bytes_of ("def");
  fail_unless (gst_trickle_channel_append (ch, wseg, b));
  g_bytes_unref (b);
  gst_trickle_channel_finish (ch, wseg);
  data = read_all (rseg, &state);
  fail_unless_equals_string (data, "abcdef");
  fail_unless_equals_int (state, GST_TRICKLE_SEGMENT_COMPLETE);
  g_free (data);

  /* appending to a finished segment fails */
  b = bytes_of ("x");
  fail_if (gst_trickle_channel_append (ch, wseg, b));
  g_bytes_unref (b);

  gst_trickle_segment_remove_waiter (rseg, &waiter);
  gst_trickle_segment_unref (rseg);
  gst_trickle_segment_unref (wseg);
  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

#define DOC_WRITERS 4
#define DOCS_EACH 200           /* all 800 within the window of 1024 */

typedef struct
{
  GstTrickleChannel *ch;
  guint id;
  gint64 seqs[DOCS_EACH];
} DocWriter;

static gpointer
write_docs (gpointer data)
{
  DocWriter *w = data;
  guint i;

  for (i = 0; i < DOCS_EACH; i++) {
    gchar *doc = g_strdup_printf ("{\"w\":%u,\"i\":%u}", w->id, i);
    GBytes *b = g_bytes_new_take (doc, strlen (doc));
    fail_unless (gst_trickle_channel_write_segment (w->ch, b, &w->seqs[i]));
    g_bytes_unref (b);
  }
  return NULL;
}

/* whole segments written from several threads at once: each gets a seq of
 * its own, no segment holds two documents, each writer's seqs rise; a seq
 * claimed by a POST that has not written yet is left to it */
GST_START_TEST (test_write_segment_concurrent)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  DocWriter w[DOC_WRITERS];
  GThread *t[DOC_WRITERS];
  GHashTable *seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  GstTrickleSegment *claimed, *seg;
  GstTrickleReadResult result;
  GstTrickleSegmentState state;
  GBytes *b;
  gchar *text;
  gint64 seq;
  guint i, j;

  g_object_set (store, "window", 1024, NULL);
  ch = gst_trickle_channel_store_create (store, "docs", "application/json",
      NULL);
  for (i = 0; i < DOC_WRITERS; i++) {
    w[i].ch = ch;
    w[i].id = i;
    t[i] = g_thread_new ("writer", write_docs, &w[i]);
  }
  for (i = 0; i < DOC_WRITERS; i++)
    g_thread_join (t[i]);
  for (i = 0; i < DOC_WRITERS; i++) {
    for (j = 0; j < DOCS_EACH; j++) {
      fail_if (g_hash_table_contains (seen, &w[i].seqs[j]), "seq %"
          G_GINT64_FORMAT " twice", w[i].seqs[j]);
      g_hash_table_add (seen, &w[i].seqs[j]);
      if (j > 0)
        fail_unless (w[i].seqs[j] > w[i].seqs[j - 1]);
    }
  }
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch),
      DOC_WRITERS * DOCS_EACH);
  /* the last window's segments each hold exactly their own document */
  for (i = 0; i < DOC_WRITERS; i++) {
    gchar *want = g_strdup_printf ("{\"w\":%u,\"i\":%u}", i, DOCS_EACH - 1);
    seg = gst_trickle_channel_open_read (ch, w[i].seqs[DOCS_EACH - 1],
        &result, NULL);
    fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
    text = read_all (seg, &state);
    fail_unless_equals_string (text, want);
    fail_unless_equals_int (state, GST_TRICKLE_SEGMENT_COMPLETE);
    g_free (text);
    g_free (want);
    gst_trickle_segment_unref (seg);
  }

  /* a preconnected writer holds the next seq: the document goes after it
   * and both arrive whole */
  claimed = gst_trickle_channel_open_write (ch, GST_TRICKLE_SEQ_NEXT, FALSE);
  fail_unless (claimed != NULL);
  b = bytes_of ("{\"doc\":1}");
  fail_unless (gst_trickle_channel_write_segment (ch, b, &seq));
  g_bytes_unref (b);
  fail_unless_equals_int64 (seq, gst_trickle_segment_get_seq (claimed) + 1);
  b = bytes_of ("media");
  fail_unless (gst_trickle_channel_append (ch, claimed, b));
  g_bytes_unref (b);
  gst_trickle_channel_finish (ch, claimed);
  text = read_all (claimed, &state);
  fail_unless_equals_string (text, "media");
  g_free (text);
  seg = gst_trickle_channel_open_read (ch, seq, &result, NULL);
  text = read_all (seg, &state);
  fail_unless_equals_string (text, "{\"doc\":1}");
  g_free (text);
  gst_trickle_segment_unref (seg);
  gst_trickle_segment_unref (claimed);

  g_hash_table_unref (seen);
  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

GST_START_TEST (test_window_and_gone)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  GstTrickleSegment *seg, *old;
  GstTrickleReadResult result;
  gint64 latest, seq;
  gint i;

  g_object_set (store, "window", 3, NULL);
  ch = gst_trickle_channel_store_create (store, "w", NULL, NULL);
  /* a reader holding segment 0 keeps it after it leaves the window */
  for (i = 0; i < 5; i++) {
    gchar s[8];
    GBytes *b;
    g_snprintf (s, sizeof (s), "s%d", i);
    b = bytes_of (s);
    fail_unless (gst_trickle_channel_write_segment (ch, b, &seq));
    fail_unless_equals_int (seq, i);
    g_bytes_unref (b);
    if (i == 0) {
      old = gst_trickle_channel_open_read (ch, 0, &result, &latest);
      fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
    }
  }
  fail_unless_equals_int (gst_trickle_segment_get_size (old), 2);
  gst_trickle_segment_unref (old);

  /* 0 and 1 were evicted by 3 and 4 */
  seg = gst_trickle_channel_open_read (ch, 1, &result, &latest);
  fail_unless (seg == NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_GONE);
  fail_unless_equals_int (latest, 5);
  /* 2 is still there; -2 is the current one (4) */
  seg = gst_trickle_channel_open_read (ch, 2, &result, &latest);
  fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
  gst_trickle_segment_unref (seg);
  seg = gst_trickle_channel_open_read (ch, GST_TRICKLE_SEQ_CURRENT, &result,
      NULL);
  fail_unless_equals_int (gst_trickle_segment_get_seq (seg), 4);
  gst_trickle_segment_unref (seg);
  /* too far ahead */
  seg = gst_trickle_channel_open_read (ch, 7, &result, NULL);
  fail_unless (seg == NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_GONE);

  /* closing the channel releases a reader waiting on the live edge */
  seg = gst_trickle_channel_open_read (ch, GST_TRICKLE_SEQ_NEXT, &result, NULL);
  fail_unless_equals_int (gst_trickle_segment_get_state (seg),
      GST_TRICKLE_SEGMENT_OPEN);
  fail_unless (gst_trickle_channel_store_remove (store, "w"));
  fail_unless_equals_int (gst_trickle_segment_get_state (seg),
      GST_TRICKLE_SEGMENT_COMPLETE);
  fail_unless (gst_trickle_channel_is_closed (ch));
  gst_trickle_segment_unref (seg);
  seg = gst_trickle_channel_open_read (ch, 0, &result, NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_CLOSED);
  fail_unless (gst_trickle_channel_store_lookup (store, "w") == NULL);

  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

/* a segment still being written when a newer seq takes its slot (a
 * publisher's backlog after a network cut: its POSTs resume together, a
 * later seq's first byte before an earlier one's last) stays open for the
 * readers sending it: they get all of it and its end, not a short segment
 * that looks complete (found by tests/faults) */
GST_START_TEST (test_evicted_while_written)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  GstTrickleSegment *s0, *reader, *seg;
  GstTrickleSegmentState state;
  GstTrickleReadResult result;
  GBytes *ab = bytes_of ("ab"), *cd = bytes_of ("cd"), *x = bytes_of ("x");
  gchar *got;
  gint i;

  g_object_set (store, "window", 5, NULL);
  ch = gst_trickle_channel_store_create (store, "e", NULL, NULL);
  s0 = gst_trickle_channel_open_write (ch, 0, FALSE);
  fail_unless (gst_trickle_channel_append (ch, s0, ab));
  reader = gst_trickle_channel_open_read (ch, 0, &result, NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
  /* 1..5 written meanwhile: 5 takes the slot of 0 */
  for (i = 1; i < 6; i++) {
    seg = gst_trickle_channel_open_write (ch, i, FALSE);
    fail_unless (gst_trickle_channel_append (ch, seg, x));
    gst_trickle_channel_finish (ch, seg);
    gst_trickle_segment_unref (seg);
  }
  fail_unless (gst_trickle_channel_open_read (ch, 0, &result, NULL) == NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_GONE);
  fail_unless_equals_int (gst_trickle_segment_get_state (reader),
      GST_TRICKLE_SEGMENT_OPEN);
  fail_unless (gst_trickle_channel_append (ch, s0, cd));
  gst_trickle_channel_finish (ch, s0);
  got = read_all (reader, &state);
  fail_unless_equals_string (got, "abcd");
  fail_unless_equals_int (state, GST_TRICKLE_SEGMENT_COMPLETE);
  g_free (got);

  gst_trickle_segment_unref (reader);
  gst_trickle_segment_unref (s0);
  g_bytes_unref (ab);
  g_bytes_unref (cd);
  g_bytes_unref (x);
  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

/* a publisher that died early and restarted at 0 while the window still
 * held its seqs 2..6: those leave the window with the restart, so no
 * reader gets the old bytes under the new publisher's numbers and the new
 * publisher's POSTs of those seqs are written (tests/faults found the old
 * segments served again after a reference publisher's restart) */
GST_START_TEST (test_restart_drops_old_segments)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  GstTrickleSegment *seg, *old3;
  GstTrickleReadResult result;
  GBytes *old = bytes_of ("old"), *young = bytes_of ("new");
  gint64 seq, latest;
  gchar *got;
  gint i;

  g_object_set (store, "window", 5, NULL);
  ch = gst_trickle_channel_store_create (store, "r", NULL, NULL);
  for (i = 0; i < 7; i++)
    fail_unless (gst_trickle_channel_write_segment (ch, old, &seq));
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 7);
  /* a reader sending the old 3 when the restart comes finishes it */
  old3 = gst_trickle_channel_open_read (ch, 3, &result, NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_OK);

  for (i = 0; i < 3; i++) {
    seg = gst_trickle_channel_open_write (ch, i, FALSE);
    fail_unless (seg != NULL, "the restarted publisher's %d was refused", i);
    fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), i);
    fail_unless (gst_trickle_channel_append (ch, seg, young));
    gst_trickle_channel_finish (ch, seg);
    gst_trickle_segment_unref (seg);
    seg = gst_trickle_channel_open_read (ch, i, &result, NULL);
    fail_unless_equals_int (result, GST_TRICKLE_READ_OK);
    got = read_all (seg, NULL);
    fail_unless_equals_string (got, "new");
    g_free (got);
    gst_trickle_segment_unref (seg);
  }
  /* the old 3 and 4 are not the new stream's: gone, the head is 3 */
  for (i = 3; i < 5; i++) {
    seg = gst_trickle_channel_open_read (ch, i + 1, &result, &latest);
    fail_unless (seg == NULL);
    fail_unless_equals_int (result, GST_TRICKLE_READ_GONE);
    fail_unless_equals_int64 (latest, 3);
  }
  got = read_all (old3, NULL);
  fail_unless_equals_string (got, "old");
  g_free (got);

  gst_trickle_segment_unref (old3);
  g_bytes_unref (old);
  g_bytes_unref (young);
  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

/* issue 10, point 10: the write head never moves back for a publisher's
 * own late segments (one or two behind, out of order on two connections),
 * but follows a publisher that restarted below anything the window holds
 * (the reference clients restart at seq 0), releasing the readers that
 * waited at the old head */
GST_START_TEST (test_write_head_restart)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;
  GstTrickleSegment *seg, *s12, *s13, *waiting, *s0;
  GstTrickleReadResult result;
  GBytes *b = bytes_of ("x");
  gint64 seq, latest;
  gchar *got;
  gint i;

  g_object_set (store, "window", 5, NULL);
  ch = gst_trickle_channel_store_create (store, "h", NULL, NULL);
  for (i = 0; i < 12; i++)
    fail_unless (gst_trickle_channel_write_segment (ch, b, &seq));
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 12);

  /* 13 starts before 12, whose (reset) POST is claimed after it: the head
   * stays past 13 */
  s13 = gst_trickle_channel_open_write (ch, 13, FALSE);
  fail_unless (gst_trickle_channel_append (ch, s13, b));
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 14);
  s12 = gst_trickle_channel_open_write (ch, 12, TRUE);
  fail_unless (s12 != NULL);
  fail_unless (gst_trickle_channel_append (ch, s12, b));
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 14);
  gst_trickle_channel_finish (ch, s12);
  gst_trickle_channel_finish (ch, s13);
  /* a seq still in the window, written: kept, as the reference keeps it */
  fail_unless (gst_trickle_channel_open_write (ch, 10, FALSE) == NULL);
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 14);

  /* a reader waits at the head; the publisher restarts at 0 */
  waiting = gst_trickle_channel_open_read (ch, GST_TRICKLE_SEQ_NEXT, &result,
      NULL);
  fail_unless_equals_int64 (gst_trickle_segment_get_seq (waiting), 14);
  s0 = gst_trickle_channel_open_write (ch, 0, FALSE);
  fail_unless (s0 != NULL);
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 0);
  fail_unless_equals_int (gst_trickle_segment_get_state (waiting),
      GST_TRICKLE_SEGMENT_COMPLETE);
  fail_unless_equals_int (gst_trickle_segment_get_size (waiting), 0);
  /* its next read is sent to the restarted publisher's segment */
  seg = gst_trickle_channel_open_read (ch, 15, &result, &latest);
  fail_unless (seg == NULL);
  fail_unless_equals_int (result, GST_TRICKLE_READ_GONE);
  fail_unless_equals_int64 (latest, 0);
  seg = gst_trickle_channel_open_read (ch, latest, &result, NULL);
  fail_unless (seg == s0);
  fail_unless (gst_trickle_channel_append (ch, s0, b));
  gst_trickle_channel_finish (ch, s0);
  got = read_all (seg, NULL);
  fail_unless_equals_string (got, "x");
  g_free (got);
  fail_unless_equals_int64 (gst_trickle_channel_get_next_seq (ch), 1);

  gst_trickle_segment_unref (seg);
  gst_trickle_segment_unref (s0);
  gst_trickle_segment_unref (waiting);
  gst_trickle_segment_unref (s12);
  gst_trickle_segment_unref (s13);
  g_bytes_unref (b);
  gst_trickle_channel_unref (ch);
  g_object_unref (store);
}

GST_END_TEST;

GST_START_TEST (test_limits_and_changefeed)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch, *feed;
  GstTrickleSegment *seg;
  GstTrickleReadResult result;
  GstTrickleSegmentState state;
  GError *err = NULL;
  GBytes *b;
  gchar *data;

  g_object_set (store, "max-channels", 1, "max-segment-size",
      (guint64) 4, "changefeed", TRUE, NULL);
  ch = gst_trickle_channel_store_create (store, "a", NULL, NULL);
  fail_unless (ch != NULL);
  /* the change feed does not count */
  fail_unless (gst_trickle_channel_store_create (store, "b", NULL, &err)
      == NULL);
  fail_unless (g_error_matches (err, GST_TRICKLE_STORE_ERROR,
          GST_TRICKLE_STORE_ERROR_TOO_MANY_CHANNELS));
  g_clear_error (&err);

  /* over max-segment-size: aborted */
  seg = gst_trickle_channel_open_write (ch, 0, FALSE);
  b = bytes_of ("12345");
  fail_if (gst_trickle_channel_append (ch, seg, b));
  g_bytes_unref (b);
  fail_unless_equals_int (gst_trickle_segment_get_state (seg),
      GST_TRICKLE_SEGMENT_ABORTED);
  gst_trickle_segment_unref (seg);

  fail_unless (gst_trickle_channel_store_remove (store, "a"));
  gst_trickle_channel_unref (ch);

  feed = gst_trickle_channel_store_lookup (store, "_changes");
  fail_unless (feed != NULL);
  seg = gst_trickle_channel_open_read (feed, 0, &result, NULL);
  data = read_all (seg, &state);
  fail_unless_equals_string (data, "{\"added\":[\"a\"]}");
  g_free (data);
  gst_trickle_segment_unref (seg);
  seg = gst_trickle_channel_open_read (feed, 1, &result, NULL);
  data = read_all (seg, &state);
  fail_unless_equals_string (data, "{\"removed\":[\"a\"]}");
  fail_unless_equals_int (state, GST_TRICKLE_SEGMENT_COMPLETE);
  g_free (data);
  gst_trickle_segment_unref (seg);
  gst_trickle_channel_unref (feed);
  g_object_unref (store);
}

GST_END_TEST;

GST_START_TEST (test_sweep)
{
  GstTrickleChannelStore *store = gst_trickle_channel_store_new ();
  GstTrickleChannel *ch;

  g_object_set (store, "idle-timeout", 10, "changefeed", TRUE, NULL);
  ch = gst_trickle_channel_store_create (store, "idle", NULL, NULL);
  gst_trickle_channel_unref (ch);
  fail_unless_equals_int (gst_trickle_channel_store_sweep (store,
          g_get_monotonic_time ()), 0);
  /* 11 s later: swept, the internal _changes channel is not */
  fail_unless_equals_int (gst_trickle_channel_store_sweep (store,
          g_get_monotonic_time () + 11 * G_USEC_PER_SEC), 1);
  fail_unless (gst_trickle_channel_store_lookup (store, "idle") == NULL);
  fail_unless_equals_int (gst_trickle_channel_store_get_n_channels (store), 1);
  g_object_unref (store);
}

GST_END_TEST;

static Suite *
channelstore_suite (void)
{
  Suite *s = suite_create ("channelstore");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_write_read_in_process);
  tcase_add_test (tc, test_write_segment_concurrent);
  tcase_add_test (tc, test_window_and_gone);
  tcase_add_test (tc, test_limits_and_changefeed);
  tcase_add_test (tc, test_sweep);
  tcase_add_test (tc, test_write_head_restart);
  tcase_add_test (tc, test_restart_drops_old_segments);
  tcase_add_test (tc, test_evicted_while_written);
  return s;
}

GST_CHECK_MAIN (channelstore);
