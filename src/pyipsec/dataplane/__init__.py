"""The ESP/AH packet engine (sans-IO), its databases (SPD, SAD) and data-plane backends."""
