/* SPDX-License-Identifier: MIT */
/* Names of transferred files: what a level may ask the core to create in
 * another level.  A name is a relative path of components joined by '/'.
 *
 * Rules (the same on the sending and the receiving side):
 *   - 1..XFER_NAME_MAX bytes, 1..XFER_DEPTH_MAX components, each component
 *     1..XFER_COMPONENT_MAX bytes: no leading or trailing '/', no "//";
 *   - no component "." or "..", no component starting with '-' (so that no
 *     received name can be taken for an option by the target user's tools);
 *   - valid UTF-8 in its shortest form: no overlong sequence, no surrogate
 *     (U+D800..U+DFFF), nothing above U+10FFFF, no NUL byte;
 *   - none of these characters: C0 controls and DEL (U+0000..U+001F,
 *     U+007F), C1 controls (U+0080..U+009F), \ : * ? " < > |, and
 *     invisible or text-direction characters that make a name display as
 *     another one: U+00AD, U+061C, U+180E, U+200B..U+200F, U+2028, U+2029,
 *     U+202A..U+202E, U+2060..U+2064, U+2066..U+2069, U+FEFF,
 *     U+FFF9..U+FFFB, the tag characters U+E0000..U+E007F and the
 *     noncharacters (U+FDD0..U+FDEF and U+xxFFFE, U+xxFFFF of every plane).
 * Everything else (letters, digits, marks, spaces and punctuation of any
 * script) is allowed.  No Unicode normalisation is done: two names that
 * differ in bytes are two names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define XFER_NAME_MAX 4095     /* bytes of a whole name (PATH_MAX with its NUL) */
#define XFER_COMPONENT_MAX 255 /* bytes of one component (NAME_MAX) */
#define XFER_DEPTH_MAX 64      /* components of a name */
#define XFER_WHY_MAX 256       /* enough for any reason given by xfer_name_valid() */

/* Check a name of len bytes (rel need not be NUL-terminated; a NUL byte
 * inside is refused).  Returns 0, or -EINVAL with a one-line reason in why
 * (printable ASCII; why may be NULL, whylen 0). */
int xfer_name_valid(const char *rel, size_t len, char *why, size_t whylen);

/* Same rules, for a single component (no '/' allowed). */
int xfer_component_valid(const char *c, size_t len, char *why, size_t whylen);

/* Write s (len bytes, any content) into out as printable ASCII for error
 * messages: bytes outside 0x20..0x7e, '\\' and '\'' become \xNN; when out
 * is too small the text is cut and ends with "...".  out is always
 * NUL-terminated (outlen > 0).  Returns out. */
char *xfer_name_escape(const void *s, size_t len, char *out, size_t outlen);

/* Number of components of a valid name. */
unsigned xfer_name_depth(const char *rel, size_t len);
