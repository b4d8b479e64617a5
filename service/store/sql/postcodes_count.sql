select count(*) from postcode_centroids
