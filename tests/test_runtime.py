"""The process's JAX runtime (runtime.py): set up once, explicitly; the compile cache's eviction survives lost files.

That importing ``runtime`` changes nothing is checked in a fresh process by tests/test_architecture.py.
"""
from __future__ import annotations

import jax

import runtime


def test_set_up_is_idempotent_and_points_jax_at_the_cache_folder():
    folder = runtime.set_up()  # conftest set the suite's process up already: the same folder, nothing done again
    assert runtime.set_up() == folder == runtime.cache_folder() == runtime.configured_folder()
    assert runtime.is_set_up()
    if runtime.disk_on():
        assert jax.config.jax_compilation_cache_dir == folder
        assert jax.config.jax_compilation_cache_max_size == runtime.COMPILE_CACHE_MAX_BYTES


def test_an_entry_without_access_time_does_not_stop_the_compile_cache(tmp_path):
    # JAX's bounded compilation cache (the class the app's persistent cache uses): an entry whose -atime file is
    # missing (a process stopped between JAX's two writes) made every later eviction raise FileNotFoundError.
    from jax._src.lru_cache import LRUCache

    assert runtime.tolerate_entries_without_access_time()  # set_up installs it; a second call changes nothing
    cache = LRUCache(str(tmp_path), max_size=100)
    cache.put("a", b"1" * 40)
    (tmp_path / "lost-cache").write_bytes(b"2" * 40)  # no lost-atime
    cache.put("b", b"3" * 40)  # 120 bytes: something must go, and the entry without a time goes first
    assert sorted(p.name for p in tmp_path.glob("*-cache")) == ["a-cache", "b-cache"]
    assert cache.get("a") == b"1" * 40 and cache.get("b") == b"3" * 40
    assert not (tmp_path / "lost-atime").exists()
    assert runtime.repair_access_times(tmp_path) == 0  # every entry has its time again
