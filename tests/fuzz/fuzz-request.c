/* gst-trickle
 * Copyright (C) 2026 gst-trickle developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target: the server's request framing (tricklehttpframing.c),
 * what a client's bytes go through before anything is served. The first
 * byte picks how the rest is cut into reads; the rest is a connection's
 * bytes: heads found and parsed, bodies decoded (Content-Length or
 * chunked), request after request, as a connection does.
 */
#include <string.h>
#include "tricklehttpframing-private.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  gsize stride, pos = 1;

  if (size < 1)
    return 0;
  stride = 1 + data[0] % 64;    /* the size of each read */
  while (pos < size) {
    TrickleHttpRequest req;
    TrickleHttpBodyDecoder dec;
    gsize skip, head_len, avail = size - pos;
    const gchar *error = NULL;
    GByteArray *payload;
    guint status;

    if (_gst_trickle_http_head_find (data + pos, avail, 1024, &skip,
            &head_len) != TRICKLE_HTTP_HEAD_COMPLETE)
      return 0;
    pos += skip;
    status = _gst_trickle_http_request_parse (&req, data + pos, head_len,
        &error);
    pos += head_len;
    if (status != SOUP_STATUS_OK) {
      g_assert (error != NULL);
      g_assert (!req.keep_alive);
      _gst_trickle_http_request_clear (&req);
      return 0;
    }
    g_assert (req.method && req.target);
    _gst_trickle_http_body_decoder_init (&dec, req.body_mode,
        req.content_length, 256);
    payload = g_byte_array_new ();
    while (!_gst_trickle_http_body_decoder_is_done (&dec) && pos < size) {
      gsize piece = MIN (stride, size - pos), used;

      if (!_gst_trickle_http_body_decode (&dec, data + pos, piece, &used,
              payload)) {
        g_byte_array_unref (payload);
        _gst_trickle_http_request_clear (&req);
        return 0;
      }
      g_assert (used <= piece);
      g_assert (payload->len <= size);
      pos += used;
      if (used == 0)
        break;
    }
    g_byte_array_unref (payload);
    _gst_trickle_http_request_clear (&req);
    if (!_gst_trickle_http_body_decoder_is_done (&dec))
      return 0;
  }
  return 0;
}
