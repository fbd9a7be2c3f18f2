// One translation unit owns Catch2's main; every other test file only includes catch.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
