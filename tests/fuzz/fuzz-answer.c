/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target: what the clients read from a server that may be
 * hostile (trickleclient.c): an answer's head (the publisher's direct
 * POSTs), whether a chunked answer body is complete, and the sequence
 * numbers of Lp-Trickle-Seq / Lp-Trickle-Latest.
 */
#include <string.h>
#include "trickle-private.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  const gchar *d = (const gchar *) data;
  gsize consumed = 0;
  guint status;
  gint64 length, seq;
  gboolean chunked, keep_alive, closed;
  gchar *s;

  if (_gst_trickle_client_parse_answer_head (d, size, &consumed, &status,
          &length, &chunked, &keep_alive, &closed)) {
    g_assert (consumed <= size);
    g_assert (status < 1000);
    g_assert (length >= -1);
    _gst_trickle_client_chunked_complete (d + consumed, size - consumed);
  }
  _gst_trickle_client_chunked_complete (d, size);
  s = g_strndup (d, MIN (size, 64));
  if (_gst_trickle_client_parse_seq (s, &seq))
    g_assert (seq >= 0 && seq <= GST_TRICKLE_SEQ_MAX);
  g_free (s);
  return 0;
}
