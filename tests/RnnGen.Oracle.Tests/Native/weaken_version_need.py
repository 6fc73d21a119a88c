#!/usr/bin/env python3
"""Mark one symbol-version requirement of an ELF shared library as weak, in place.

Why: TorchSharp's libLibTorchSharp.so (0.107.0) was linked against GCC 13's libstdc++ and so
requires the version GLIBCXX_3.4.32 from libstdc++.so.6. That version holds one symbol,
std::ios_base_library_init(), which <iostream> references only to pull in the library's stream
initialisation: there is no relocation against it, nothing calls it. Debian 12's libstdc++ (GCC 12)
stops at GLIBCXX_3.4.30, so the dynamic loader refuses the whole library with
"version `GLIBCXX_3.4.32' not found".

What: each library lists the versions it needs in the section .gnu.version_r (type SHT_GNU_verneed):
a chain of Elf64_Verneed records (one per needed file), each followed by a chain of Elf64_Vernaux
records (one per needed version). A Vernaux whose vna_flags has VER_FLG_WEAK (0x2) is a weak need:
when the version is missing, glibc's loader goes on instead of failing (see glibc
elf/dl-version.c, match_symbol). This script sets that one bit on the named version and changes
nothing else: same size, same layout, every other byte untouched. The test project also loads a
shim library that defines the symbol (see ios_base_library_init_shim.cpp), so a lookup of it would
still succeed.

Properties: idempotent (a need that is already weak is left alone and reported as such), keeps the
file's timestamps (so MSBuild's incremental copy of the package file still sees it as up to date),
and never writes through a hard link (a file with several links is replaced by a private copy
first, so the NuGet package cache is never modified). Only the Python 3 standard library is used.

Usage: weaken_version_need.py LIBRARY.so VERSION [VERSION ...]
Exit codes: 0 = every named version is weak now (or was already); 1 = a named version is not
needed by the library (nothing written); 2 = not a 64-bit little-endian ELF file, or no
.gnu.version_r section.
"""
import os
import shutil
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2

# Elf64_Ehdr fields used here: e_shoff at 0x28 (8 bytes); e_shentsize, e_shnum at 0x3A, 0x3C (2 bytes each).
# Elf64_Shdr (64 bytes): sh_name, sh_type (4 each), sh_flags, sh_addr, sh_offset, sh_size (8 each), sh_link, sh_info (4 each), ...
SHDR = struct.Struct("<IIQQQQII")
# Elf64_Verneed (16 bytes): vn_version (2), vn_cnt (2), vn_file, vn_aux, vn_next (4 each; offsets in bytes).
VERNEED = struct.Struct("<HHIII")
# Elf64_Vernaux (16 bytes): vna_hash (4), vna_flags (2), vna_other (2), vna_name, vna_next (4 each).
VERNAUX = struct.Struct("<IHHII")
VNA_FLAGS_OFFSET = 4


class NotPatchable(Exception):
    pass


def c_string(data, offset):
    end = data.index(b"\0", offset)
    return data[offset:end].decode("ascii", "replace")


def find_version_needs(data):
    """Yields (file name, version name, file offset of vna_flags, vna_flags) for every needed version."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise NotPatchable("not a 64-bit little-endian ELF file")
    (e_shoff,) = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [SHDR.unpack_from(data, e_shoff + i * e_shentsize) for i in range(e_shnum)]
    verneed = [s for s in sections if s[1] == SHT_GNU_VERNEED]
    if not verneed:
        raise NotPatchable("no .gnu.version_r (SHT_GNU_verneed) section")
    _, _, _, _, sh_offset, _, sh_link, sh_info = verneed[0]
    strtab = sections[sh_link][4]  # sh_link names the string table (.dynstr); take its sh_offset
    need = sh_offset
    for _ in range(sh_info):  # sh_info = number of Verneed records
        _, vn_cnt, vn_file, vn_aux, vn_next = VERNEED.unpack_from(data, need)
        file_name = c_string(data, strtab + vn_file)
        aux = need + vn_aux
        for _ in range(vn_cnt):
            _, vna_flags, _, vna_name, vna_next = VERNAUX.unpack_from(data, aux)
            yield file_name, c_string(data, strtab + vna_name), aux + VNA_FLAGS_OFFSET, vna_flags
            aux += vna_next
        need += vn_next


def weaken(path, versions):
    with open(path, "rb") as f:
        data = f.read()
    needs = {name: (file_name, flags_at, flags) for file_name, name, flags_at, flags in find_version_needs(data)}
    missing = [v for v in versions if v not in needs]
    if missing:
        print(f"{path}: does not need {', '.join(missing)}; nothing written", file=sys.stderr)
        return 1
    todo = [(v, *needs[v]) for v in versions if not needs[v][2] & VER_FLG_WEAK]
    for v in versions:
        if needs[v][2] & VER_FLG_WEAK:
            print(f"{path}: {v} ({needs[v][0]}) is already weak")
    if not todo:
        return 0
    stat = os.stat(path)
    if stat.st_nlink > 1:
        # A hard link (e.g. CreateHardLinksForCopyLocalIfPossible) would share the NuGet cache's copy: break it.
        private = path + ".unlinked"
        shutil.copy2(path, private)
        os.replace(private, path)
    with open(path, "r+b") as f:
        for v, file_name, flags_at, flags in todo:
            f.seek(flags_at)
            f.write(struct.pack("<H", flags | VER_FLG_WEAK))
            print(f"{path}: {v} ({file_name}) marked weak")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return 0


def main(argv):
    if len(argv) < 3:
        print("usage: weaken_version_need.py LIBRARY.so VERSION [VERSION ...]", file=sys.stderr)
        return 2
    try:
        return weaken(argv[1], argv[2:])
    except (NotPatchable, OSError) as e:
        print(f"{argv[1]}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
