"""The pure rules of shipment tracking: plain Python and attrs only."""
