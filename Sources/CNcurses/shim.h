#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

// Function-like macros do not reach Swift; these small wrappers do.
static inline int studio_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int studio_a_normal(void) { return (int)A_NORMAL; }
static inline int studio_a_bold(void) { return (int)A_BOLD; }
static inline int studio_a_dim(void) { return (int)A_DIM; }
static inline int studio_a_reverse(void) { return (int)A_REVERSE; }
static inline int studio_a_underline(void) { return (int)A_UNDERLINE; }
static inline int studio_key_f(int n) { return KEY_F(n); }

// Mouse masks are function-like macros too. A click selects, a double click acts.
static inline mmask_t studio_mouse_mask(void) { return BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED; }
static inline int studio_is_double_click(mmask_t m) { return (m & BUTTON1_DOUBLE_CLICKED) != 0; }
static inline int studio_is_click(mmask_t m) { return (m & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)) != 0; }
