"""The location mapping screen: Traction Rec locations to our Locations."""
