select code, lon, lat from postcode_centroids
