"""The application shell: start-up, main window, menus, sidebar, theme, settings, progress, screenshots."""
