"""The configuration model: RouterOS menus, values, store, verification."""
