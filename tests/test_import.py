"""Importing graphnn changes nothing process-wide (STYLE.md: no side effects of an import)."""
import subprocess
import sys
import textwrap


def test_import_and_a_run_leave_warning_filters_and_jax_listeners_alone():
    program = textwrap.dedent("""
        import warnings
        import jax
        from jax._src import monitoring
        filters = list(warnings.filters)
        listeners = list(monitoring.get_event_duration_listeners())
        x64 = jax.config.jax_enable_x64
        import graphnn as gn
        from jax._src import xla_bridge
        # gn.distribute.initialize (jax.distributed) must still be possible after the import.
        assert not xla_bridge.backends_are_initialized(), "import graphnn started a backend"
        assert warnings.filters == filters, "import graphnn changed warnings.filters"
        assert monitoring.get_event_duration_listeners() == listeners, "a JAX listener"
        v = gn.Variable([1.0, 2.0])
        with gn.Session() as sess:
            sess.run(v.initializer)
            sess.run(v.assign_add([1.0, 1.0]))
        assert warnings.filters == filters, "a run changed warnings.filters"
        assert monitoring.get_event_duration_listeners() == listeners, "a JAX listener"
        assert jax.config.jax_enable_x64 == x64
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
