"""logistic: a shipment-tracking service (where is my parcel?)."""
