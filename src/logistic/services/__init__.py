"""The use cases: track a parcel, generate fake orders, record an event, publish a report."""
