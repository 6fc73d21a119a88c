// Shim for TorchSharp's libLibTorchSharp.so on systems whose libstdc++ is older than GCC 13
// (Debian 12 ships GCC 12's, which stops at the symbol version GLIBCXX_3.4.30).
//
// GCC 13's <iostream> makes every object that includes it reference std::ios_base_library_init()
// (version GLIBCXX_3.4.32; in libstdc++ it is an alias of std::ios_base::Init::Init()) so that the
// library's own stream initialisation is linked in. The reference is a bare symbol: there is no
// relocation against it and nothing ever calls it. The build marks libLibTorchSharp.so's need of
// GLIBCXX_3.4.32 weak (weaken_version_need.py); the tests then load this library with RTLD_GLOBAL
// before the first torch call, so the symbol resolves should anything look it up. On this libstdc++
// the standard streams are initialised by libstdc++ itself, so the body has nothing to do.
//
// Built by RnnGen.Oracle.Tests.csproj (g++ -shared -fPIC) into the test output folder.

namespace std
{
    // Same mangled name as libstdc++'s: _ZSt21ios_base_library_initv.
    __attribute__((visibility("default"))) void ios_base_library_init() {}
}
