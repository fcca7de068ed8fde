def test_health(anon_client, db):
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
