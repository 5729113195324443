"""doctor: governor's Claude Code plugin next to `governor install`'s settings entries.

Both may be present: then the settings entries run and the plugin's shim stands down for those events
(plugin/hook.sh looks for them), so each event runs governor once. doctor says which is active and how to
remove the other."""

from __future__ import annotations

from governor.reports.doctor_checks import Check, Wired
from governor.wiring import installer, plugins


def plugin_active() -> bool:
    return bool(plugins.named(plugins.PLUGIN_NAME)) or plugins.running_in_plugin() is not None


def check_plugin(wired: list[Wired]) -> Check:
    ids = plugins.named(plugins.PLUGIN_NAME)
    where = [f"{pid} ({scope} scope)" for pid, scope in sorted(ids.items())]
    if not where and plugins.running_in_plugin():
        where = [f"--plugin-dir {plugins.running_in_plugin()}"]
    settings = sorted({w.where.split(":")[0] for w in wired
                       if w.event != "statusLine" and w.where.split(":")[0] in installer.SCOPES})
    if not where:
        return Check("plugin", "info", "governor's Claude Code plugin is not enabled"
                     + ("; the settings entries run the hooks" if settings else ""))
    if not settings:
        return Check("plugin", "ok", f"{', '.join(where)} runs the hooks")
    uninstall_plugin = [f"claude plugin uninstall {pid} --scope {scope}" for pid, scope in sorted(ids.items())]
    return Check("plugin", "ok", f"both registered: the settings entries ({', '.join(settings)} scope) run the "
                                 f"hooks; the plugin {', '.join(where)} stands down for those events",
                 [f"keep only the plugin: governor uninstall --scope {settings[0]}, then /governor:setup",
                  "keep only the settings entries: " + (" ; ".join(uninstall_plugin) or "drop --plugin-dir")])
