"""The host colours: one list for the screen, the figures and the comparison figure, taken in
order of first appearance, so a host has the same colour on screen and in every figure.

Distinct on dark and light terminals; fixed hex so snapshots do not depend on the theme.
"""

PALETTE = [
    "#4e9ddb",
    "#e8a33d",
    "#5cb85c",
    "#d9534f",
    "#a67fd8",
    "#3fbfbf",
    "#e377c2",
    "#bcbd22",
    "#8c9eff",
    "#ff7f50",
    "#7fcf9f",
    "#c9a26b",
]
