/* A shared library without the adoption_fitter_v1 entry point. */
__attribute__((visibility("default"))) int some_other_symbol(void) { return 42; }
