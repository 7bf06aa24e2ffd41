pytest_plugins = ["ocht.testkit.plugin"]
