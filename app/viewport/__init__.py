"""The shared 3D viewport: an Open3D (Filament) frame rendered off the GUI thread, painted by a QWidget."""
